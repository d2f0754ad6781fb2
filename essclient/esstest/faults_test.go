package esstest_test

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
)

func setFaults(t *testing.T, srv *esstest.Server, p esstest.FaultPlan) {
	t.Helper()
	if err := srv.SetFaults(p); err != nil {
		t.Fatalf("SetFaults: %v", err)
	}
}

func TestFaultErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   string
		status int
	}{
		{"ServiceUnavailable", 503},
		{"InternalError", 500},
		{"Throttling", 400},
		{"Throttling.Api", 400},
		{"Throttling.User", 400},
		{"Forbidden", 403},
		{"Forbidden.RiskControl", 403},
		{"Forbidden.Unauthorized", 403},
		{"NoPermission", 403},
		{"InvalidScalingGroupId.NotFound", 404},
		{"InvalidInstanceId.NotFound", 404},
		{"InvalidAccessKeyId.NotFound", 404},
		{"UnknownError", 500},
		{"ScalingActivityInProgress", 400},
		{"UnsupportedHTTPMethod", 405},
		{"InvalidSecurityToken.Expired", 400},
		{"SomethingUnknown", 400},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
			setFaults(t, srv, esstest.FaultPlan{"DetachLoadBalancers": {ErrorRate: 1, ErrorCodes: []string{tt.code}}})
			c := newSDK(t, srv)
			_, err := c.detach("asg-1", false, "tok", "lb-1")
			wantServerError(t, err, tt.status, tt.code)
			if got := lbsOf(t, srv, "asg-1"); len(got) != 1 {
				t.Errorf("load balancers = %v: an injected error must not do the work", got)
			}
			st := srv.Stats()
			if st.DetachesApplied != 0 || st.Calls["DetachLoadBalancers"][tt.code] != 1 {
				t.Errorf("stats = %+v", st)
			}
			// The token was not used up by the failed call.
			setFaults(t, srv, nil)
			c.mustDetach("asg-1", false, "tok", "lb-1")
		})
	}
}

func TestFaultDefaultCodeAndWildcard(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{
		"*":                     {ErrorRate: 1},
		"DescribeScalingGroups": {},
	})
	c := newSDK(t, srv)
	_, err := c.detach("asg-1", false, "", "lb-1")
	wantServerError(t, err, http.StatusServiceUnavailable, "ServiceUnavailable")
	_, err = c.activities("asg-1", "", 0, 0)
	wantServerError(t, err, http.StatusServiceUnavailable, "ServiceUnavailable")
	if _, err := c.groups(0, 0); err != nil {
		t.Errorf("DescribeScalingGroups has its own (empty) entry, which wins over \"*\": %v", err)
	}
	if got := srv.Faults()["*"].ErrorCodes; !slices.Equal(got, []string{"ServiceUnavailable"}) {
		t.Errorf("default ErrorCodes = %v", got)
	}
	setFaults(t, srv, esstest.FaultPlan{})
	c.mustDetach("asg-1", false, "", "lb-1")
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	const latency = 150 * time.Millisecond
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{"DescribeScalingGroups": {Latency: esstest.Duration(latency)}})
	c := newSDK(t, srv)
	start := time.Now()
	if _, err := c.groups(0, 0); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < latency {
		t.Errorf("call took %v, want at least %v", took, latency)
	}
	start = time.Now()
	c.mustDetach("asg-1", false, "", "lb-1")
	if took := time.Since(start); took >= latency {
		t.Errorf("an action without latency took %v", took)
	}
}

func TestFaultLatencyHonoursClientGoingAway(t *testing.T) {
	t.Parallel()
	logs := &logcapture.Buffer{}
	srv, _ := newServer(t, esstest.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))}, group("asg-1", "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{"DescribeScalingGroups": {Latency: esstest.Duration(time.Hour)}})
	c := newSDK(t, srv)
	gr := c.groupsReq(0, 0)
	gr.SetReadTimeout(100 * time.Millisecond)
	start := time.Now()
	if _, err := c.client.DescribeScalingGroups(gr); err == nil {
		t.Fatal("call with an hour of latency and a 100ms timeout succeeded")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("client waited %v", took)
	}
	// The handler notices the closed connection and returns, instead of holding on for an hour.
	waitFor(t, "the handler to log client_gone=true", func() bool {
		return strings.Contains(logs.String(), "client_gone=true")
	})
}

func TestFaultLostAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	setFaults(t, srv, esstest.FaultPlan{"DetachLoadBalancers": {LostAnswerRate: 1}})
	c := newSDK(t, srv)

	_, err := c.detach("asg-1", true, "lost-token", "lb-1")
	if err == nil {
		t.Fatal("detach with a lost answer succeeded")
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		t.Fatalf("lost answer gave a server error %v, want a transport error", err)
	}
	st := srv.Stats()
	if st.ActivitiesCreated != 1 || st.Calls["DetachLoadBalancers"]["LostAnswer"] != 1 {
		t.Errorf("stats = %+v, want the activity created and the call counted as LostAnswer", st)
	}

	// The retry with the same token gets the answer of the work already done.
	setFaults(t, srv, nil)
	resp := c.mustDetach("asg-1", true, "lost-token", "lb-1")
	if resp.ScalingActivityId == "" {
		t.Fatal("retry answered no activity")
	}
	if a, ok := srv.Activity(resp.ScalingActivityId); !ok || a.ScalingGroupId != "asg-1" {
		t.Errorf("Activity(%s) = %+v, %v", resp.ScalingActivityId, a, ok)
	}
	if st := srv.Stats(); st.ActivitiesCreated != 1 {
		t.Errorf("ActivitiesCreated = %d after the retry, want 1", st.ActivitiesCreated)
	}

	// A sync detach whose answer is lost is applied all the same.
	srv2, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	setFaults(t, srv2, esstest.FaultPlan{"*": {LostAnswerRate: 1}})
	if _, err := newSDK(t, srv2).detach("asg-1", false, "", "lb-2"); err == nil {
		t.Fatal("sync detach with a lost answer succeeded")
	}
	if got := lbsOf(t, srv2, "asg-1"); !slices.Equal(got, []string{"lb-1"}) {
		t.Errorf("load balancers = %v, want lb-2 detached although the answer was lost", got)
	}
	if got := srv2.Stats().DetachesApplied; got != 1 {
		t.Errorf("DetachesApplied = %d, want 1", got)
	}
}

func TestFaultThrottle(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{})
	setFaults(t, srv, esstest.FaultPlan{"DescribeScalingGroups": {ThrottleQPS: 3}})
	c := newSDK(t, srv)

	burst := func() (ok, throttled int) {
		t.Helper()
		for range 8 {
			_, err := c.groups(0, 0)
			if err == nil {
				ok++
				continue
			}
			wantServerError(t, err, http.StatusBadRequest, "Throttling.User")
			throttled++
		}
		return ok, throttled
	}
	if ok, throttled := burst(); ok != 3 || throttled != 5 {
		t.Errorf("burst of 8 at 3 QPS: %d ok, %d throttled; want 3 and 5", ok, throttled)
	}
	clock.Advance(time.Second)
	if ok, _ := burst(); ok != 3 {
		t.Errorf("a second later: %d ok, want 3", ok)
	}
	if _, err := c.activities("", "", 0, 0, "asa-x"); err != nil {
		t.Errorf("another action is not throttled: %v", err)
	}
	if got := srv.Stats().Calls["DescribeScalingGroups"]; got["OK"] != 6 || got["Throttling.User"] != 10 {
		t.Errorf("calls = %v", got)
	}
}

// TestFaultSeedReplays shows that the same seed gives the same faults.
func TestFaultSeedReplays(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []string {
		srv, _ := newServer(t, esstest.Config{Seed: seed})
		setFaults(t, srv, esstest.FaultPlan{"*": {ErrorRate: 0.5, ErrorCodes: []string{"InternalError", "ServiceUnavailable", "Throttling"}}})
		c := newSDK(t, srv)
		var codes []string
		for range 30 {
			_, err := c.groups(0, 0)
			var se *sdkerrors.ServerError
			switch {
			case err == nil:
				codes = append(codes, "OK")
			case errors.As(err, &se):
				codes = append(codes, se.ErrorCode())
			default:
				t.Fatal(err)
			}
		}
		return codes
	}
	a, b := run(42), run(42)
	if !slices.Equal(a, b) {
		t.Errorf("seed 42 twice:\n%v\n%v", a, b)
	}
	for _, want := range []string{"OK", "InternalError", "ServiceUnavailable", "Throttling"} {
		if !slices.Contains(a, want) {
			t.Errorf("30 calls at ErrorRate 0.5 never answered %s: %v", want, a)
		}
	}
	if c := run(43); slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 gave the same 30 outcomes: %v", a)
	}
}

func TestSetFaultsValidation(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{})
	tests := map[string]esstest.FaultPlan{
		"ErrorRate above 1":       {"*": {ErrorRate: 1.5}},
		"negative LostAnswerRate": {"*": {LostAnswerRate: -0.1}},
		"negative Latency":        {"*": {Latency: -1}},
		"negative ThrottleQPS":    {"*": {ThrottleQPS: -1}},
		"empty code":              {"*": {ErrorRate: 1, ErrorCodes: []string{""}}},
		"unknown action":          {"DetachLoadBalancer": {ErrorRate: 1}},
	}
	for name, plan := range tests {
		t.Run(name, func(t *testing.T) {
			if err := srv.SetFaults(plan); !errors.Is(err, esstest.ErrInvalidState) {
				t.Errorf("SetFaults = %v, want ErrInvalidState", err)
			}
		})
	}
}
