package essclient

import (
	"errors"
	"sync"
	"testing"
	"time"

	"essworker/essclient/esstest"
)

const (
	testRegion = esstest.DefaultRegionID
	testGroup  = "asg-test-1"
)

// startEmulator starts an ESS emulator that lives until the test ends.
func startEmulator(t *testing.T, cfg esstest.Config, groups ...esstest.ScalingGroup) *esstest.Server {
	t.Helper()
	srv := esstest.NewServer(cfg)
	t.Cleanup(srv.Close)
	for _, g := range groups {
		if err := srv.AddScalingGroup(g); err != nil {
			t.Fatalf("AddScalingGroup(%s): %v", g.ScalingGroupId, err)
		}
	}
	return srv
}

// testGroupWith is a group of testRegion with the given load balancers.
func testGroupWith(id string, lbs ...string) esstest.ScalingGroup {
	return esstest.ScalingGroup{ScalingGroupId: id, RegionId: testRegion, LoadBalancerIds: lbs}
}

// newTestClient returns a Client for endpoint with the emulator's default
// access key; mutate adjusts the Config before New.
func newTestClient(t *testing.T, endpoint string, mutate ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Endpoint:      endpoint,
		DefaultRegion: testRegion,
		Credentials:   StaticCredentials(esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, ""),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func setFaults(t *testing.T, srv *esstest.Server, plan esstest.FaultPlan) {
	t.Helper()
	if err := srv.SetFaults(plan); err != nil {
		t.Fatalf("SetFaults: %v", err)
	}
}

// asError asserts that err is an *Error and returns it.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("err = nil, want an *Error")
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("err = %T %v, want an *Error", err, err)
	}
	return e
}

// recordingObserver records every observation.
type recordingObserver struct {
	mu       sync.Mutex
	requests []observed
	waits    []time.Duration
}

type observed struct {
	action, code string
	d            time.Duration
}

func (o *recordingObserver) ObserveRequest(action, code string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, observed{action, code, d})
}

func (o *recordingObserver) ObserveRateLimitWait(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, d)
}

func (o *recordingObserver) codes() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var cs []string
	for _, r := range o.requests {
		cs = append(cs, r.action+"/"+r.code)
	}
	return cs
}
