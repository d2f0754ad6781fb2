package esstest

import (
	"encoding/json"
	"slices"
	"time"
)

// lbAction is DetachLoadBalancers or AttachLoadBalancers: the two share their
// parameters, ClientToken handling and activity, and differ in what they check
// and change.
type lbAction struct {
	name, verb, title string
	forceParam        string
	check             func(g *ScalingGroup, lbs []string) *apiError
	apply             func(current, lbs []string) []string
	count             func(s *Stats)
}

var detachAction = &lbAction{
	name:       ActionDetachLoadBalancers,
	verb:       "detach",
	title:      "Detach",
	forceParam: "ForceDetach",
	check: func(g *ScalingGroup, lbs []string) *apiError {
		for _, lb := range lbs {
			if !slices.Contains(g.LoadBalancerIds, lb) {
				return newError(CodeLoadBalancerNotFound, "The Load Balancer %q does not exist.", lb)
			}
		}
		return nil
	},
	apply: func(current, lbs []string) []string {
		return slices.DeleteFunc(slices.Clone(current), func(lb string) bool { return slices.Contains(lbs, lb) })
	},
	count: func(s *Stats) { s.DetachesApplied++ },
}

var attachAction = &lbAction{
	name:       ActionAttachLoadBalancers,
	verb:       "attach",
	title:      "Attach",
	forceParam: "ForceAttach",
	check: func(g *ScalingGroup, lbs []string) *apiError {
		if n := len(attachUnion(g.LoadBalancerIds, lbs)); n > MaxLoadBalancersPerGroup {
			return newError(CodeQuotaExceededLB, "The number of load balancers attached to the scaling group would be %d, more than the quota of %d.", n, MaxLoadBalancersPerGroup)
		}
		return nil
	},
	apply: attachUnion,
	count: func(*Stats) {},
}

// attachUnion is current plus the load balancers of lbs not yet in it.
func attachUnion(current, lbs []string) []string {
	out := slices.Clone(current)
	for _, lb := range lbs {
		if !slices.Contains(out, lb) {
			out = append(out, lb)
		}
	}
	return out
}

// lbRequest is the validated parameters of a detach or attach.
type lbRequest struct {
	Action         string
	ScalingGroupId string
	LoadBalancers  []string
	Force          bool
	Async          bool
	token          string
}

type lbResponse struct {
	RequestId         string `json:"RequestId"`
	ScalingActivityId string `json:"ScalingActivityId,omitempty"`
}

func (r lbResponse) withRequestID(id string) any { r.RequestId = id; return r }

func (k *lbAction) parse(p params) (lbRequest, *apiError) {
	req := lbRequest{Action: k.name, ScalingGroupId: p["ScalingGroupId"], token: p["ClientToken"]}
	if req.ScalingGroupId == "" {
		return req, errMissing("ScalingGroupId")
	}
	lbName := p.listName("LoadBalancer")
	lbs, aerr := p.list(lbName, MaxLoadBalancersPerGroup)
	if aerr != nil {
		return req, aerr
	}
	if len(lbs) == 0 {
		return req, errMissing(lbName + ".1")
	}
	for i, lb := range lbs {
		if slices.Index(lbs, lb) != i {
			return req, errInvalid(lbName, "duplicate load balancer \""+lb+"\"")
		}
	}
	req.LoadBalancers = lbs
	if req.Force, aerr = p.boolean(k.forceParam); aerr != nil {
		return req, aerr
	}
	if req.Async, aerr = p.boolean("Async"); aerr != nil {
		return req, aerr
	}
	for i := 0; i < len(req.token); i++ {
		if req.token[i] > 0x7f {
			return req, errInvalid("ClientToken", "it must contain only ASCII characters")
		}
	}
	if len(req.token) > maxClientTokenLen {
		return req, errInvalid("ClientToken", "it must be at most 64 characters")
	}
	return req, nil
}

// fingerprint identifies the request's parameters for ClientToken matching.
func (r lbRequest) fingerprint() string {
	b, _ := json.Marshal(r) // a struct of strings and bools cannot fail
	return string(b)
}

// serve detaches or attaches, synchronously or by starting an activity.
func (k *lbAction) serve(e *Emulator, now time.Time, p params) (response, *apiError) {
	req, aerr := k.parse(p)
	if aerr != nil {
		return nil, aerr
	}
	key := tokenKey(k.name, req.token)
	if req.token != "" {
		if t := e.tokens.get(key); t != nil {
			if t.fingerprint != req.fingerprint() {
				return nil, newError(CodeIdempotentMismatch, "The request uses the same ClientToken as a previous request with other parameters.")
			}
			return t.answer, nil
		}
	}
	g, aerr := e.lookupGroup(req.ScalingGroupId, p["RegionId"])
	if aerr != nil {
		return nil, aerr
	}
	if g.LifecycleState != LifecycleActive {
		return nil, newError(CodeIncorrectGroupStatus, "The current status of the specified scaling group (%s) does not support this action.", g.LifecycleState)
	}
	if running := e.running[g.ScalingGroupId]; len(running) > 0 {
		return nil, newError(CodeActivityInProgress, "A scaling activity (%s) is in progress in the specified scaling group.", running[0].id)
	}
	if aerr := k.check(g, req.LoadBalancers); aerr != nil {
		return nil, aerr
	}
	var answer lbResponse
	if req.Async {
		answer.ScalingActivityId = e.startActivity(g, k, req.LoadBalancers, now).id
	} else {
		g.LoadBalancerIds = k.apply(g.LoadBalancerIds, req.LoadBalancers)
		k.count(&e.stats)
	}
	if req.token != "" {
		e.tokens.put(key, req.fingerprint(), answer, now)
	}
	return answer, nil
}
