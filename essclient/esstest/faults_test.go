package esstest_test

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
	"essworker/internal/sharedtest"
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
	sharedtest.WaitFor(t, "the handler to log client_gone=true", 5*time.Second, func() (bool, string) {
		return strings.Contains(logs.String(), "client_gone=true"), "log: " + logs.String()
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
	tests := map[string]struct {
		plan  esstest.FaultPlan
		field string
	}{
		"ErrorRate above 1":           {esstest.FaultPlan{"*": {ErrorRate: 1.5}}, "*.ErrorRate"},
		"negative LostAnswerRate":     {esstest.FaultPlan{"*": {LostAnswerRate: -0.1}}, "*.LostAnswerRate"},
		"negative Latency":            {esstest.FaultPlan{"*": {Latency: -1}}, "*.Latency"},
		"negative ThrottleQPS":        {esstest.FaultPlan{"*": {ThrottleQPS: -1}}, "*.ThrottleQPS"},
		"empty code":                  {esstest.FaultPlan{"*": {ErrorRate: 1, ErrorCodes: []string{""}}}, "*.ErrorCodes[0]"},
		"unknown action":              {esstest.FaultPlan{"DetachLoadBalancer": {ErrorRate: 1}}, `"DetachLoadBalancer"`},
		"ErrorAfterWorkRate above 1":  {esstest.FaultPlan{"*": {ErrorAfterWorkRate: 1.01}}, "*.ErrorAfterWorkRate"},
		"negative ErrorAfterWorkRate": {esstest.FaultPlan{"*": {ErrorAfterWorkRate: -0.5}}, "*.ErrorAfterWorkRate"},
		"Status 399":                  {esstest.FaultPlan{"*": {ErrorRate: 1, Status: new(399)}}, "*.Status"},
		"Status 600":                  {esstest.FaultPlan{"*": {ErrorRate: 1, Status: new(600)}}, "*.Status"},
		"Status 0":                    {esstest.FaultPlan{"*": {Status: new(0)}}, "*.Status"},
		"Status 200":                  {esstest.FaultPlan{"DetachLoadBalancers": {Status: new(200)}}, "DetachLoadBalancers.Status"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := srv.SetFaults(tt.plan)
			if !errors.Is(err, esstest.ErrInvalidState) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("SetFaults = %v, want ErrInvalidState naming %s", err, tt.field)
			}
		})
	}
	if got := srv.Faults(); len(got) != 0 {
		t.Errorf("plan in force = %v after invalid plans, want none", got)
	}
}

func TestFaultErrorAfterWork(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2", "lb-3"))
	setFaults(t, srv, esstest.FaultPlan{"DetachLoadBalancers": {ErrorAfterWorkRate: 1}})
	c := newSDK(t, srv)

	// A sync detach is applied, then answered ServiceUnavailable (the default code).
	_, err := c.detach("asg-1", false, "sync-tok", "lb-1")
	wantServerError(t, err, http.StatusServiceUnavailable, "ServiceUnavailable", "after the work was done")
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2", "lb-3"}) {
		t.Errorf("load balancers = %v, want lb-1 detached before the error", got)
	}
	// A call that fails on its own keeps its own error.
	_, err = c.detach("asg-1", false, "", "lb-x")
	wantServerError(t, err, http.StatusNotFound, "InvalidLoadBalancerId.NotFound")
	// An async detach starts its activity, then answers the error.
	setFaults(t, srv, esstest.FaultPlan{"DetachLoadBalancers": {ErrorAfterWorkRate: 1, ErrorCodes: []string{"InternalError"}}})
	_, err = c.detach("asg-1", true, "async-tok", "lb-2")
	wantServerError(t, err, http.StatusInternalServerError, "InternalError")

	st := srv.Stats()
	want := map[string]int{"ServiceUnavailable": 1, "InvalidLoadBalancerId.NotFound": 1, "InternalError": 1}
	if got := st.Calls["DetachLoadBalancers"]; !maps.Equal(got, want) || st.DetachesApplied != 1 || st.ActivitiesCreated != 1 {
		t.Errorf("stats = %+v, want calls %v, 1 detach applied, 1 activity", st, want)
	}

	// The tokens kept the successes: their retries get them and do nothing more.
	setFaults(t, srv, nil)
	c.mustDetach("asg-1", false, "sync-tok", "lb-1") // lb-1 is gone, so only a replay succeeds
	list, err := c.activities("asg-1", "", 0, 0)
	if err != nil || len(list.ScalingActivities.ScalingActivity) != 1 {
		t.Fatalf("activities of asg-1 = %+v, %v; want the one the async detach started", list, err)
	}
	started := list.ScalingActivities.ScalingActivity[0].ScalingActivityId
	if got := c.mustDetach("asg-1", true, "async-tok", "lb-2").ScalingActivityId; got != started {
		t.Errorf("retry of the async detach answered %s, want %s", got, started)
	}
	clock.Advance(esstest.DefaultActivityDuration)
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-3"}) {
		t.Errorf("load balancers = %v, want [lb-3]", got)
	}
	if st := srv.Stats(); st.DetachesApplied != 2 || st.ActivitiesCreated != 1 || st.Calls["DetachLoadBalancers"]["OK"] != 2 {
		t.Errorf("stats = %+v, want 2 detaches applied, 1 activity, 2 OK calls", st)
	}
}

func TestFaultLostAnswerWinsOverErrorAfterWork(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{"*": {LostAnswerRate: 1, ErrorAfterWorkRate: 1}})
	_, err := newSDK(t, srv).detach("asg-1", false, "", "lb-1")
	if err == nil {
		t.Fatal("detach with a lost answer succeeded")
	}
	if _, ok := errors.AsType[*sdkerrors.ServerError](err); ok {
		t.Fatalf("lost answer gave a server error %v, want a transport error", err)
	}
	st := srv.Stats()
	if got := st.Calls["DetachLoadBalancers"]; !maps.Equal(got, map[string]int{"LostAnswer": 1}) || st.DetachesApplied != 1 {
		t.Errorf("stats = %+v, want one LostAnswer call and the detach applied", st)
	}
}

func TestFaultStatus(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	c := newSDK(t, srv)

	setFaults(t, srv, esstest.FaultPlan{"DescribeScalingGroups": {ErrorRate: 1, ErrorCodes: []string{"Throttling.User"}, Status: new(429)}})
	_, err := c.groups(0, 0)
	wantServerError(t, err, http.StatusTooManyRequests, "Throttling.User")

	// Status applies to ErrorAfterWorkRate answers, not to ThrottleQPS ones.
	setFaults(t, srv, esstest.FaultPlan{"DetachLoadBalancers": {ErrorAfterWorkRate: 1, ThrottleQPS: 1, Status: new(599)}})
	_, err = c.detach("asg-1", false, "", "lb-1")
	wantServerError(t, err, 599, "ServiceUnavailable")
	_, err = c.detach("asg-1", false, "", "lb-2")
	wantServerError(t, err, http.StatusBadRequest, "Throttling.User")
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2"}) {
		t.Errorf("load balancers = %v, want [lb-2]", got)
	}

	// The plan handed out is a copy.
	plan := srv.Faults()
	*plan["DetachLoadBalancers"].Status = 400
	if got := *srv.Faults()["DetachLoadBalancers"].Status; got != 599 {
		t.Errorf("Status in force = %d after changing a copy, want 599", got)
	}
}
