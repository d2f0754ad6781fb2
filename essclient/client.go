package essclient

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"

	"essworker/internal/esslimits"
)

// codeOK is the code reported to Observer for a successful call.
const codeOK = "OK"

// Client calls ESS through the SDK, safely: see the package documentation.
// It is safe for concurrent use. Create it with New.
type Client struct {
	cfg          Config
	ep           endpoint
	creds        *credentialSource
	transport    *http.Transport
	ownTransport bool

	mu    sync.Mutex
	pools map[string]*regionPool
}

var _ API = (*Client)(nil)

// New validates cfg and returns a Client. It neither resolves credentials nor
// connects: both happen at the first call (see CheckCredentials to fail fast).
func New(cfg Config) (*Client, error) {
	cfg, ep, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:       cfg,
		ep:        ep,
		creds:     &credentialSource{configured: cfg.Credentials},
		transport: cfg.Transport,
		pools:     make(map[string]*regionPool),
	}
	if c.transport == nil {
		c.transport, c.ownTransport = newTransport(cfg), true
	}
	return c, nil
}

// Close releases the idle connections of the Client's own transport (not of
// a Config.Transport). Calls in flight finish; a later call opens new
// connections.
func (c *Client) Close() {
	if c.ownTransport {
		c.transport.CloseIdleConnections()
	}
}

// CheckCredentials resolves credentials now, without calling ESS, so a worker
// can fail fast at start. It returns nil or an *Error with Code
// CodeCredentials (errors.Is ErrNoCredentials), or with CodeNetwork when ctx
// ended first.
func (c *Client) CheckCredentials(ctx context.Context) error {
	const action = "CheckCredentials"
	err := c.creds.check(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return abandoned(action, ctx.Err())
	default:
		return fromSDK(action, err, c.creds.knownSecrets())
	}
}

// DetachLoadBalancers detaches up to MaxLoadBalancersPerCall load balancers
// from a scaling group. A retry must use the same ClientToken.
func (c *Client) DetachLoadBalancers(ctx context.Context, r DetachRequest) (DetachResult, error) {
	const action = ActionDetachLoadBalancers
	if r.ScalingGroupID == "" {
		return DetachResult{}, invalidRequest(action, "ScalingGroupID is empty")
	}
	if n := len(r.LoadBalancerIDs); n == 0 || n > MaxLoadBalancersPerCall {
		return DetachResult{}, invalidRequest(action, fmt.Sprintf("LoadBalancerIDs has %d IDs, want 1 to %d", n, MaxLoadBalancersPerCall))
	}
	region, err := c.region(action, r.RegionID)
	if err != nil {
		return DetachResult{}, err
	}
	req := ess.CreateDetachLoadBalancersRequest()
	req.RegionId = region
	req.ScalingGroupId = r.ScalingGroupID
	lbs := slices.Clone(r.LoadBalancerIDs)
	req.LoadBalancer = &lbs
	req.ForceDetach = requests.NewBoolean(r.ForceDetach)
	req.Async = requests.NewBoolean(r.Async)
	req.ClientToken = r.ClientToken
	resp := ess.CreateDetachLoadBalancersResponse()
	if err := c.call(ctx, action, region, req, resp); err != nil {
		return DetachResult{}, err
	}
	return DetachResult{RequestID: resp.RequestId, ScalingActivityID: resp.ScalingActivityId}, nil
}

// DescribeScalingActivities looks up 1 to MaxActivityIDsPerCall activities
// by ID. An empty regionID means Config.DefaultRegion.
func (c *Client) DescribeScalingActivities(ctx context.Context, regionID string, activityIDs []string) (ActivitiesResult, error) {
	const action = ActionDescribeScalingActivities
	if n := len(activityIDs); n == 0 || n > MaxActivityIDsPerCall {
		return ActivitiesResult{}, invalidRequest(action, fmt.Sprintf("%d activity IDs, want 1 to %d", n, MaxActivityIDsPerCall))
	}
	region, err := c.region(action, regionID)
	if err != nil {
		return ActivitiesResult{}, err
	}
	req := ess.CreateDescribeScalingActivitiesRequest()
	req.RegionId = region
	ids := slices.Clone(activityIDs)
	req.ScalingActivityId = &ids
	// One page holds them all; ESS's default page of 10 would cut 20 IDs.
	req.PageSize = requests.NewInteger(MaxActivityIDsPerCall)
	resp := ess.CreateDescribeScalingActivitiesResponse()
	if err := c.call(ctx, action, region, req, resp); err != nil {
		return ActivitiesResult{}, err
	}
	res := ActivitiesResult{RequestID: resp.RequestId}
	for _, a := range resp.ScalingActivities.ScalingActivity {
		res.Activities = append(res.Activities, Activity{
			ScalingActivityID: a.ScalingActivityId,
			ScalingGroupID:    a.ScalingGroupId,
			StatusCode:        a.StatusCode,
			StatusMessage:     a.StatusMessage,
			Progress:          a.Progress,
			StartTime:         a.StartTime,
			EndTime:           a.EndTime,
		})
	}
	return res, nil
}

// DescribeScalingGroups looks up 1 to MaxScalingGroupIDsPerCall groups by ID.
// An empty regionID means Config.DefaultRegion.
func (c *Client) DescribeScalingGroups(ctx context.Context, regionID string, groupIDs []string) (ScalingGroupsResult, error) {
	const action = ActionDescribeScalingGroups
	if n := len(groupIDs); n == 0 || n > MaxScalingGroupIDsPerCall {
		return ScalingGroupsResult{}, invalidRequest(action, fmt.Sprintf("%d scaling group IDs, want 1 to %d", n, MaxScalingGroupIDsPerCall))
	}
	region, err := c.region(action, regionID)
	if err != nil {
		return ScalingGroupsResult{}, err
	}
	req := ess.CreateDescribeScalingGroupsRequest()
	req.RegionId = region
	ids := slices.Clone(groupIDs)
	req.ScalingGroupId = &ids
	req.PageSize = requests.NewInteger(MaxScalingGroupIDsPerCall)
	resp := ess.CreateDescribeScalingGroupsResponse()
	if err := c.call(ctx, action, region, req, resp); err != nil {
		return ScalingGroupsResult{}, err
	}
	return ScalingGroupsResult{RequestID: resp.RequestId, ScalingGroups: groupsOf(resp)}, nil
}

// groupsOf converts the groups of a DescribeScalingGroups answer.
func groupsOf(resp *ess.DescribeScalingGroupsResponse) []ScalingGroup {
	var out []ScalingGroup
	for _, g := range resp.ScalingGroups.ScalingGroup {
		out = append(out, ScalingGroup{
			ScalingGroupID:  g.ScalingGroupId,
			RegionID:        g.RegionId,
			LifecycleState:  g.LifecycleState,
			LoadBalancerIDs: g.LoadBalancerIds.LoadBalancerId,
		})
	}
	return out
}

// region returns the region of a call, or an *Error if it is not a region ID.
func (c *Client) region(action, regionID string) (string, error) {
	if regionID == "" {
		return c.cfg.DefaultRegion, nil
	}
	if !esslimits.ValidRegionID(regionID) {
		return "", invalidRequest(action, fmt.Sprintf("RegionID %q is not a region ID", regionID))
	}
	return regionID, nil
}

// pool returns the SDK client pool of region, creating it at first use.
func (c *Client) pool(region string) (*regionPool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pools[region]; ok {
		return p, nil
	}
	p, err := newRegionPool(region, c.cfg.PoolSize, c.ep.scheme, c.transport, c.creds)
	if err != nil {
		return nil, err
	}
	c.pools[region] = p
	return p, nil
}

// call runs one SDK call under ctx: it waits for the limiter and a free SDK
// client, sets scheme, endpoint and timeouts on the request, and runs the SDK
// in a goroutine so that a done ctx, or the per-call timeout, returns at once.
// A late answer is dropped; the goroutine gives the SDK client back when the
// SDK returns, which the per-call timeout and the cancelled HTTP exchange
// bound.
func (c *Client) call(ctx context.Context, action, region string, req requests.AcsRequest, resp responses.AcsResponse) error {
	if err := ctx.Err(); err != nil {
		return abandoned(action, err)
	}
	if err := c.wait(ctx, action); err != nil {
		return err
	}
	pool, err := c.pool(region)
	if err != nil {
		return invalidRequest(action, Scrub(err.Error()))
	}
	sc, err := pool.acquire(ctx)
	if err != nil {
		return abandoned(action, err)
	}
	timeout := c.cfg.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	if timeout <= 0 {
		pool.release(sc)
		return abandoned(action, context.DeadlineExceeded)
	}
	req.SetScheme(c.ep.scheme)
	if c.ep.domain != "" {
		req.SetDomain(c.ep.domain)
	}
	// On every request: the SDK otherwise falls back to whatever the
	// client's shared http.Client was last set to.
	req.SetConnectTimeout(timeout)
	req.SetReadTimeout(timeout)
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	sc.rt.ctx = callCtx
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		err := sc.ess.DoAction(req, resp)
		pool.release(sc)
		done <- err
		cancel() // after the send: callCtx ends early only when the call is over
	}()
	// callCtx ends with ctx or at the per-call timeout, whichever comes first,
	// even if the SDK is stuck somewhere its own timeout does not reach.
	select {
	case err := <-done:
		return c.result(action, start, err)
	case <-callCtx.Done():
		select {
		case err := <-done: // the answer won the race; keep it
			return c.result(action, start, err)
		default:
		}
		c.observe(action, CodeNetwork, time.Since(start))
		return abandoned(action, callCtx.Err())
	}
}

// wait waits for the limiter, if any, and reports the wait.
func (c *Client) wait(ctx context.Context, action string) error {
	if c.cfg.Limiter == nil {
		return nil
	}
	start := time.Now()
	err := c.cfg.Limiter.Wait(ctx)
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveRateLimitWait(time.Since(start))
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return abandoned(action, ctx.Err())
	default:
		return &Error{
			Action:  action,
			Code:    CodeRateLimiter,
			Message: truncate(Scrub(err.Error())),
			Class:   ClassRetryable,
			Err:     sanitize(err, nil),
		}
	}
}

// result turns the SDK's outcome into nil or an *Error and reports it.
func (c *Client) result(action string, start time.Time, err error) error {
	d := time.Since(start)
	if err == nil {
		c.observe(action, codeOK, d)
		return nil
	}
	e := fromSDK(action, err, c.creds.knownSecrets())
	if e.Code != CodeCredentials {
		c.observe(action, e.Code, d)
	}
	if e.Code == CodeSecurityTokenExpired {
		c.creds.forget()
	}
	return e
}

func (c *Client) observe(action, code string, d time.Duration) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveRequest(action, code, d)
	}
}
