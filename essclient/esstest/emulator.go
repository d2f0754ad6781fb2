package esstest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// controlPrefix is where the emulator's own endpoints live; the SDK never uses it.
const controlPrefix = "/_emulator/"

// Emulator is the ESS endpoint as an http.Handler (ESS API on "/", control under "/_emulator/").
// It is safe for concurrent use. Time-driven changes (an activity ending, a
// token expiring) happen lazily, when the next call reads the Clock.
type Emulator struct {
	cfg Config // validated, immutable after New

	mu              sync.Mutex
	groups          map[string]*ScalingGroup // normalized; LoadBalancerIds is the current attachment
	groupOrder      []string                 // insertion order, for stable paging
	activities      map[string]*activity
	activityLog     []*activity            // creation order, for pruning
	groupActivities map[string][]*activity // by group ID, creation order
	running         map[string][]*activity // by group ID: its unfinished activities, creation order
	activitySeq     int
	tokens          tokenStore
	nonces          nonceStore
	faults          FaultPlan
	buckets         map[string]*tokenBucket // by action
	rng             *rand.Rand
	stats           Stats
}

// New returns an Emulator. It panics if cfg is invalid (a negative
// ActivityDuration, an empty access key), as a programming error.
func New(cfg Config) *Emulator {
	cfg, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	seed := uint64(cfg.Seed)
	return &Emulator{
		cfg:             cfg,
		groups:          make(map[string]*ScalingGroup),
		activities:      make(map[string]*activity),
		groupActivities: make(map[string][]*activity),
		running:         make(map[string][]*activity),
		tokens:          tokenStore{entries: make(map[string]*tokenEntry)},
		nonces:          nonceStore{seen: make(map[string]time.Time)},
		faults:          FaultPlan{},
		buckets:         make(map[string]*tokenBucket),
		rng:             rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		stats:           Stats{Calls: make(map[string]map[string]int)},
	}
}

// ServeHTTP answers the ESS API on "/" and the control endpoints under "/_emulator/".
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		e.serveControl(w, r)
		return
	}
	e.serveAPI(w, r)
}

// AddScalingGroup adds a group, or replaces the group with the same ID. An
// activity already running on that group keeps running and applies to the
// new state when it ends.
func (e *Emulator) AddScalingGroup(g ScalingGroup) error {
	g, err := g.normalized()
	if err != nil {
		return fmt.Errorf("%w: scaling group %q: %w", ErrInvalidState, g.ScalingGroupId, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle(e.cfg.Clock.Now())
	if _, ok := e.groups[g.ScalingGroupId]; !ok {
		e.groupOrder = append(e.groupOrder, g.ScalingGroupId)
	}
	e.groups[g.ScalingGroupId] = &g
	return nil
}

// ScalingGroup returns the current state of a group (a copy).
func (e *Emulator) ScalingGroup(id string) (ScalingGroup, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle(e.cfg.Clock.Now())
	g, ok := e.groups[id]
	if !ok {
		return ScalingGroup{}, false
	}
	return g.clone(), true
}

// ScalingGroups returns the current state of every group (copies), in the
// order they were first added.
func (e *Emulator) ScalingGroups() []ScalingGroup {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle(e.cfg.Clock.Now())
	out := make([]ScalingGroup, 0, len(e.groupOrder))
	for _, id := range e.groupOrder {
		out = append(out, e.groups[id].clone())
	}
	return out
}

// SetFaults replaces the fault plan; an empty plan clears it. The throttle's
// buckets start full again.
func (e *Emulator) SetFaults(p FaultPlan) error {
	p, err := p.normalized()
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = p
	clear(e.buckets)
	return nil
}

// Faults returns the current fault plan (a copy), defaults filled in.
func (e *Emulator) Faults() FaultPlan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faults.clone()
}

// Stats returns what the emulator has done so far (a deep copy).
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settle(e.cfg.Clock.Now())
	return e.stats.clone()
}

// Activity returns the current state of one activity. Activities that ended
// more than 30 days ago (by the Clock) are forgotten.
func (e *Emulator) Activity(id string) (Activity, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Clock.Now()
	e.settle(now)
	a, ok := e.activities[id]
	if !ok {
		return Activity{}, false
	}
	return a.view(now), true
}

func (g *ScalingGroup) clone() ScalingGroup {
	c := *g
	c.LoadBalancerIds = slices.Clone(g.LoadBalancerIds)
	return c
}

// settle applies the activities that have ended by now and forgets expired
// tokens and old activities. The caller holds e.mu.
func (e *Emulator) settle(now time.Time) {
	for _, gid := range slices.Sorted(maps.Keys(e.running)) {
		running := e.running[gid]
		kept := running[:0]
		for _, a := range running {
			if now.Before(a.end) {
				kept = append(kept, a)
				continue
			}
			e.finish(a)
		}
		clear(running[len(kept):])
		if len(kept) == 0 {
			delete(e.running, gid)
		} else {
			e.running[gid] = kept
		}
	}
	e.tokens.prune(now)
	e.pruneActivities(now)
}

// finish ends an activity whose time has come: a detach or attach that
// succeeds changes its group now; the group's own activities change nothing.
// The caller holds e.mu.
func (e *Emulator) finish(a *activity) {
	a.settled = true
	if a.kind == nil || !a.succeeds() {
		return
	}
	if g, ok := e.groups[a.groupID]; ok {
		g.LoadBalancerIds = a.kind.apply(g.LoadBalancerIds, a.loadBalancers)
	}
	a.kind.count(&e.stats)
}

// pruneActivities forgets finished activities older than activityRetention.
// The log is in creation order, so it stops at the first one to keep.
func (e *Emulator) pruneActivities(now time.Time) {
	cutoff := now.Add(-activityRetention)
	for len(e.activityLog) > 0 {
		a := e.activityLog[0]
		if !a.settled || !a.start.Before(cutoff) {
			return
		}
		e.activityLog = e.activityLog[1:]
		delete(e.activities, a.id)
		if ga := e.groupActivities[a.groupID]; len(ga) > 0 && ga[0] == a {
			e.groupActivities[a.groupID] = ga[1:]
		}
	}
}

// startActivity starts a detach or attach activity of group g. The caller holds e.mu.
func (e *Emulator) startActivity(g *ScalingGroup, kind *lbAction, lbs []string, now time.Time) *activity {
	a := newActivity(g, kind, lbs, now, e.cfg.ActivityDuration)
	e.addActivity(a)
	e.stats.ActivitiesCreated++
	return a
}

// addActivity gives a its ID and records it as running on its group. The
// caller holds e.mu.
func (e *Emulator) addActivity(a *activity) {
	e.activitySeq++
	a.id = fmt.Sprintf("asa-emu%017d", e.activitySeq)
	e.activities[a.id] = a
	e.activityLog = append(e.activityLog, a)
	e.groupActivities[a.groupID] = append(e.groupActivities[a.groupID], a)
	e.running[a.groupID] = append(e.running[a.groupID], a)
}

// lookupGroup finds a group as ESS does: within the request's region.
func (e *Emulator) lookupGroup(id, region string) (*ScalingGroup, *apiError) {
	g, ok := e.groups[id]
	if !ok || (region != "" && region != g.RegionId) {
		return nil, errGroupNotFound()
	}
	return g, nil
}
