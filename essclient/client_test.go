package essclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"

	"essworker/essclient/esstest"
	"essworker/internal/sharedtest"
)

func TestDetachAndDescribe(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{ActivityDuration: 100 * time.Millisecond},
		testGroupWith(testGroup, "lb-1", "lb-2", "lb-3"))
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Observer = obs })
	ctx := t.Context()

	res, err := c.DetachLoadBalancers(ctx, DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "sync-1"})
	if err != nil {
		t.Fatalf("sync detach: %v", err)
	}
	if res.RequestID == "" || res.ScalingActivityID != "" {
		t.Errorf("sync detach = %+v, want a request ID and no activity", res)
	}

	res, err = c.DetachLoadBalancers(ctx, DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-2", "lb-3"}, Async: true, ClientToken: "async-1"})
	if err != nil {
		t.Fatalf("async detach: %v", err)
	}
	if res.ScalingActivityID == "" {
		t.Fatalf("async detach = %+v, want an activity ID", res)
	}

	var last Activity
	sharedtest.WaitFor(t, "the activity ends", 5*time.Second, func() (bool, string) {
		acts, err := c.DescribeScalingActivities(ctx, "", []string{res.ScalingActivityID, "asa-unknown"})
		if err != nil {
			t.Fatalf("DescribeScalingActivities: %v", err)
		}
		if len(acts.Activities) != 1 || acts.RequestID == "" {
			t.Fatalf("DescribeScalingActivities = %+v, want exactly the known activity", acts)
		}
		last = acts.Activities[0]
		return last.Terminal(), last.StatusCode
	})
	if last.ScalingActivityID != res.ScalingActivityID || last.ScalingGroupID != testGroup || last.StatusCode != StatusSuccessful || last.StartTime == "" {
		t.Errorf("activity = %+v, want %s of %s Successful with a start time", last, res.ScalingActivityID, testGroup)
	}

	groups, err := c.DescribeScalingGroups(ctx, testRegion, []string{testGroup})
	if err != nil {
		t.Fatalf("DescribeScalingGroups: %v", err)
	}
	if len(groups.ScalingGroups) != 1 || len(groups.ScalingGroups[0].LoadBalancerIDs) != 0 || groups.ScalingGroups[0].LifecycleState != "Active" {
		t.Errorf("DescribeScalingGroups = %+v, want %s Active with no load balancers", groups, testGroup)
	}
	if codes := obs.codes(); !slices.Contains(codes, "DetachLoadBalancers/OK") || !slices.Contains(codes, "DescribeScalingActivities/OK") {
		t.Errorf("observed %v, want OK calls of both actions", codes)
	}
}

// TestClassificationThroughRealCalls drives the real SDK against the emulator
// for every class the emulator can produce.
func TestClassificationThroughRealCalls(t *testing.T) {
	t.Parallel()
	errorPlan := func(code string) func(*testing.T, *esstest.Server, *Client) {
		return func(t *testing.T, srv *esstest.Server, _ *Client) {
			setFaults(t, srv, esstest.FaultPlan{ActionDetachLoadBalancers: {ErrorRate: 1, ErrorCodes: []string{code}}})
		}
	}
	detach := func(group, token string, lbs ...string) DetachRequest {
		return DetachRequest{ScalingGroupID: group, LoadBalancerIDs: lbs, ClientToken: token}
	}
	tests := []struct {
		name       string
		setup      func(*testing.T, *esstest.Server, *Client)
		creds      provider.Provider // nil: the emulator's key
		req        DetachRequest
		wantCode   string
		wantStatus int
		wantClass  Class
	}{
		{"ServiceUnavailable", errorPlan("ServiceUnavailable"), nil, detach(testGroup, "t", "lb-1"), "ServiceUnavailable", 503, ClassRetryable},
		{"InternalError", errorPlan("InternalError"), nil, detach(testGroup, "t", "lb-1"), "InternalError", 500, ClassRetryable},
		{"Throttling.User", errorPlan("Throttling.User"), nil, detach(testGroup, "t", "lb-1"), "Throttling.User", 400, ClassThrottled},
		{"not attached", nil, nil, detach(testGroup, "t", "lb-other"), "InvalidLoadBalancerId.NotFound", 404, ClassNotAttached},
		{"unknown group", nil, nil, detach("asg-missing", "t", "lb-1"), "InvalidScalingGroupId.NotFound", 404, ClassPermanent},
		{"busy with an activity", func(t *testing.T, _ *esstest.Server, c *Client) {
			if _, err := c.DetachLoadBalancers(t.Context(), DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, Async: true, ClientToken: "first"}); err != nil {
				t.Fatalf("first async detach: %v", err)
			}
		}, nil, detach(testGroup, "second", "lb-2"), "ScalingActivityInProgress", 400, ClassBusy},
		{"inactive group", nil, nil, detach("asg-inactive", "t", "lb-1"), "IncorrectScalingGroupStatus", 400, ClassBusy},
		{"token reused with other parameters", func(t *testing.T, _ *esstest.Server, c *Client) {
			if _, err := c.DetachLoadBalancers(t.Context(), detach(testGroup, "reused", "lb-1")); err != nil {
				t.Fatalf("first detach: %v", err)
			}
		}, nil, detach(testGroup, "reused", "lb-2"), "IdempotentParameterMismatch", 400, ClassPermanent},
		{"wrong secret", nil, StaticCredentials(esstest.DefaultAccessKeyID, "not-the-secret", ""), detach(testGroup, "t", "lb-1"), "SignatureDoesNotMatch", 400, ClassPermanent},
		{"unknown access key", nil, StaticCredentials("NOSUCHKEY", "whatever", ""), detach(testGroup, "t", "lb-1"), "InvalidAccessKeyId.NotFound", 0, ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inactive := testGroupWith("asg-inactive", "lb-1")
			inactive.LifecycleState = "Inactive"
			busy := testGroupWith(testGroup, "lb-1", "lb-2")
			busy.ActivityDuration = esstest.Duration(time.Hour)
			srv := startEmulator(t, esstest.Config{}, busy, inactive)
			c := newTestClient(t, srv.URL, func(cfg *Config) {
				if tt.creds != nil {
					cfg.Credentials = tt.creds
				}
			})
			if tt.setup != nil {
				tt.setup(t, srv, c)
			}
			_, err := c.DetachLoadBalancers(t.Context(), tt.req)
			e := asError(t, err)
			if e.Code != tt.wantCode || e.Class != tt.wantClass || ClassOf(err) != tt.wantClass {
				t.Errorf("got code %q class %v (ClassOf %v), want %q %v: %v", e.Code, e.Class, ClassOf(err), tt.wantCode, tt.wantClass, err)
			}
			if tt.wantStatus != 0 && e.HTTPStatus != tt.wantStatus {
				t.Errorf("HTTPStatus = %d, want %d", e.HTTPStatus, tt.wantStatus)
			}
			if e.HTTPStatus < 400 || e.RequestID == "" || e.Action != ActionDetachLoadBalancers || e.Message == "" {
				t.Errorf("error lacks the answer's details: %+v", *e)
			}
			if got := errors.Is(err, ErrNotAttached); got != (tt.wantClass == ClassNotAttached) {
				t.Errorf("errors.Is(err, ErrNotAttached) = %v for class %v", got, tt.wantClass)
			}
		})
	}
}

func TestTimeoutIsRetryableNetworkError(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(2 * time.Second)}})
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Timeout = 200 * time.Millisecond
		cfg.Observer = obs
	})

	start := time.Now()
	_, err := c.DetachLoadBalancers(t.Context(), DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "t"})
	took := time.Since(start)
	e := asError(t, err)
	if e.Code != CodeNetwork || e.Class != ClassRetryable || e.HTTPStatus != 0 {
		t.Errorf("err = %+v, want a retryable network error without status", *e)
	}
	if took > time.Second {
		t.Errorf("call took %v with Timeout 200ms and 2s latency", took)
	}
	if codes := obs.codes(); !slices.Equal(codes, []string{"DetachLoadBalancers/network"}) {
		t.Errorf("observed %v, want one network call", codes)
	}
}

func TestContextDeadlineBoundsTheCall(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(5 * time.Second)}})
	c := newTestClient(t, srv.URL) // Timeout: the 10s default

	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DescribeScalingActivities(ctx, "", []string{"asa-1"})
	took := time.Since(start)
	e := asError(t, err)
	if e.Code != CodeNetwork || e.Class != ClassRetryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a retryable network error wrapping context.DeadlineExceeded", err)
	}
	if took > time.Second {
		t.Errorf("call took %v with a 150ms context deadline", took)
	}
}

func TestCancelReturnsAtOnce(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(5 * time.Second)}})
	// One SDK client: the next call can only run once the abandoned one has
	// given it back.
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.PoolSize = 1 })

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.DetachLoadBalancers(ctx, DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "t"})
		errc <- err
	}()
	sharedtest.WaitFor(t, "the call to reach the emulator", 5*time.Second, func() (bool, string) {
		calls := srv.Stats().Calls[ActionDetachLoadBalancers]
		return calls["OK"] == 1, fmt.Sprint(calls)
	})
	cancelled := time.Now()
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(time.Second):
		t.Fatal("the call did not return within 1s of cancel")
	}
	t.Logf("returned %v after cancel", time.Since(cancelled))
	e := asError(t, err)
	if e.Code != CodeNetwork || e.Class != ClassRetryable || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want a retryable network error wrapping context.Canceled", err)
	}

	// The abandoned HTTP exchange was cut too, so the only SDK client is free
	// well before the 5s latency would have ended.
	setFaults(t, srv, esstest.FaultPlan{})
	ctx2, cancel2 := context.WithTimeout(t.Context(), time.Second)
	defer cancel2()
	if _, err := c.DescribeScalingGroups(ctx2, "", []string{testGroup}); err != nil {
		t.Fatalf("next call on the same SDK client: %v", err)
	}
}

// TestTimeoutDoesNotLeakIntoNextCall: the SDK keeps the last timeout in its
// client; a short deadline must not cut the next, longer call.
func TestTimeoutDoesNotLeakIntoNextCall(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(300 * time.Millisecond)}})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.PoolSize = 1 }) // same SDK client both times

	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.DescribeScalingGroups(short, "", []string{testGroup}); ClassOf(err) != ClassRetryable || err == nil {
		t.Fatalf("short call: err = %v, want a retryable timeout", err)
	}
	long, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	if _, err := c.DescribeScalingGroups(long, "", []string{testGroup}); err != nil {
		t.Fatalf("long call after a short one: %v", err)
	}
	// And with no deadline at all, Config.Timeout applies, not the last one.
	if _, err := c.DescribeScalingGroups(t.Context(), "", []string{testGroup}); err != nil {
		t.Fatalf("call without deadline after a short one: %v", err)
	}
}

func TestLostAnswerThenRetryAppliesOnce(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1", "lb-2"))
	setFaults(t, srv, esstest.FaultPlan{ActionDetachLoadBalancers: {LostAnswerRate: 1}})
	c := newTestClient(t, srv.URL)
	req := DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "lost-once"}

	_, err := c.DetachLoadBalancers(t.Context(), req)
	e := asError(t, err)
	if e.Code != CodeNetwork || e.Class != ClassRetryable {
		t.Fatalf("lost answer: err = %v, want a retryable network error", err)
	}

	setFaults(t, srv, esstest.FaultPlan{})
	res, err := c.DetachLoadBalancers(t.Context(), req)
	if err != nil {
		t.Fatalf("retry with the same token: %v", err)
	}
	if res.RequestID == "" {
		t.Errorf("retry = %+v, want a request ID", res)
	}
	if got := srv.Stats().DetachesApplied; got != 1 {
		t.Errorf("DetachesApplied = %d, want 1", got)
	}
	if g, _ := srv.ScalingGroup(testGroup); !slices.Equal(g.LoadBalancerIds, []string{"lb-2"}) {
		t.Errorf("group load balancers = %v, want [lb-2]", g.LoadBalancerIds)
	}
}

func TestConcurrentCallsAcrossRegions(t *testing.T) {
	t.Parallel()
	regions := []string{"cn-hangzhou", "cn-beijing"}
	var groups []esstest.ScalingGroup
	var reqs []DetachRequest
	for _, region := range regions {
		for g := range 5 {
			group := esstest.ScalingGroup{ScalingGroupId: fmt.Sprintf("asg-%s-%d", region, g), RegionId: region}
			for lb := range 5 {
				id := fmt.Sprintf("lb-%s-%d-%d", region, g, lb)
				group.LoadBalancerIds = append(group.LoadBalancerIds, id)
				reqs = append(reqs, DetachRequest{RegionID: region, ScalingGroupID: group.ScalingGroupId, LoadBalancerIDs: []string{id}, ClientToken: "tok-" + id})
			}
			groups = append(groups, group)
		}
	}
	srv := startEmulator(t, esstest.Config{}, groups...)
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Observer = obs })

	var wg sync.WaitGroup
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		wg.Go(func() {
			_, errs[i] = c.DetachLoadBalancers(t.Context(), r)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("detach %s: %v", reqs[i].LoadBalancerIDs[0], err)
		}
	}
	if got := srv.Stats().DetachesApplied; got != len(reqs) {
		t.Errorf("DetachesApplied = %d, want %d", got, len(reqs))
	}
	for _, g := range groups {
		if got, _ := srv.ScalingGroup(g.ScalingGroupId); len(got.LoadBalancerIds) != 0 {
			t.Errorf("%s still has %v", g.ScalingGroupId, got.LoadBalancerIds)
		}
	}
	if n := len(obs.codes()); n != len(reqs) {
		t.Errorf("observed %d calls, want %d", n, len(reqs))
	}
}

func TestLimiterIsWaitedOnAndReported(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	obs := &recordingObserver{}
	lim := &sleepyLimiter{delay: 30 * time.Millisecond}
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Limiter = lim
		cfg.Observer = obs
	})
	if _, err := c.DescribeScalingGroups(t.Context(), "", []string{testGroup}); err != nil {
		t.Fatalf("DescribeScalingGroups: %v", err)
	}
	obs.mu.Lock()
	waits := slices.Clone(obs.waits)
	obs.mu.Unlock()
	if len(waits) != 1 || waits[0] < lim.delay {
		t.Errorf("rate limit waits = %v, want one of at least %v", waits, lim.delay)
	}

	lim.setFail(errors.New("limiter store unreachable at redis://:hunter2@10.0.0.1:6379"))
	_, err := c.DescribeScalingGroups(t.Context(), "", []string{testGroup})
	e := asError(t, err)
	if e.Code != CodeRateLimiter || e.Class != ClassRetryable {
		t.Errorf("limiter failure: err = %v, want a retryable %s error", err, CodeRateLimiter)
	}
	if text := fmt.Sprintf("%+v", err); strings.Contains(text, "hunter2") {
		t.Errorf("limiter failure leaks a password: %s", text)
	}
	if got := srv.Stats().Calls[ActionDescribeScalingGroups]["OK"]; got != 1 {
		t.Errorf("emulator saw %d OK DescribeScalingGroups, want 1 (none after the limiter failed)", got)
	}
}

func TestInvalidRequestsAreRejectedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	c := newTestClient(t, srv.URL)
	ids := func(n int) []string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("id-%d", i))
		}
		return s
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"no activity IDs", func() error { _, err := c.DescribeScalingActivities(t.Context(), "", nil); return err }},
		{"too many activity IDs", func() error {
			_, err := c.DescribeScalingActivities(t.Context(), "", ids(MaxActivityIDsPerCall+1))
			return err
		}},
		{"no load balancers", func() error {
			_, err := c.DetachLoadBalancers(t.Context(), DetachRequest{ScalingGroupID: testGroup})
			return err
		}},
		{"too many load balancers", func() error {
			_, err := c.DetachLoadBalancers(t.Context(), DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: ids(MaxLoadBalancersPerCall + 1)})
			return err
		}},
		{"no group", func() error {
			_, err := c.DetachLoadBalancers(t.Context(), DetachRequest{LoadBalancerIDs: ids(1)})
			return err
		}},
		{"bad region", func() error {
			_, err := c.DescribeScalingGroups(t.Context(), "cn hangzhou/..", []string{testGroup})
			return err
		}},
		{"no group IDs", func() error { _, err := c.DescribeScalingGroups(t.Context(), "", nil); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			e := asError(t, err)
			if e.Code != CodeInvalidRequest || e.Class != ClassPermanent || !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("err = %v, want a permanent %s error", err, CodeInvalidRequest)
			}
		})
	}
	if calls := srv.Stats().Calls; len(calls) != 0 {
		t.Errorf("emulator saw calls %v, want none", calls)
	}
}

// sleepyLimiter waits delay, or fails with fail when set.
type sleepyLimiter struct {
	delay time.Duration
	mu    sync.Mutex
	fail  error
}

func (l *sleepyLimiter) setFail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = err
}

func (l *sleepyLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	fail := l.fail
	l.mu.Unlock()
	if fail != nil {
		return fail
	}
	select {
	case <-time.After(l.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
