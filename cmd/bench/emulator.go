package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"essworker/essclient"
	"essworker/essclient/esstest"
)

// emulator is the in-process ESS emulator on a loopback port, with one addition
// the emulator's own stats lack: how many activity IDs each
// DescribeScalingActivities call asked for, which is what batching saves.
type emulator struct {
	*esstest.Server
	answer http.Handler // the server's own handler, which serve wraps

	mu         sync.Mutex
	idCounts   []int                // per DescribeScalingActivities call, in arrival order
	lastLookAt map[string]time.Time // by activity ID: the last call that asked for it
}

func startEmulator(cfg esstest.Config) *emulator {
	e := &emulator{Server: esstest.NewUnstartedServer(cfg), lastLookAt: map[string]time.Time{}}
	e.answer = e.Config.Handler
	e.Config.Handler = http.HandlerFunc(e.serve)
	e.Start()
	return e
}

// serve counts the IDs of a DescribeScalingActivities call, then lets the
// emulator answer. ParseForm is what the emulator does first anyway; calling
// it twice is a no-op.
func (e *emulator) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err == nil && r.Form.Get("Action") == essclient.ActionDescribeScalingActivities {
		now := time.Now()
		n := 0
		e.mu.Lock()
		for k, v := range r.Form {
			if strings.HasPrefix(k, "ScalingActivityId.") && len(v) > 0 {
				n++
				e.lastLookAt[v[0]] = now
			}
		}
		e.idCounts = append(e.idCounts, n)
		e.mu.Unlock()
	}
	e.answer.ServeHTTP(w, r)
}

// describeIDCounts returns the IDs asked for by each DescribeScalingActivities
// call from the from-th on.
func (e *emulator) describeIDCounts(from int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if from > len(e.idCounts) {
		return nil
	}
	return append([]int(nil), e.idCounts[from:]...)
}

// lastLook is when a DescribeScalingActivities call last asked for activity id.
func (e *emulator) lastLook(id string) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.lastLookAt[id]
	return t, ok
}

func (e *emulator) describeCallCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.idCounts)
}

// calls is the count of action's answers with code ("" for every code).
func calls(st esstest.Stats, action, code string) int {
	if code != "" {
		return st.Calls[action][code]
	}
	n := 0
	for _, c := range st.Calls[action] {
		n += c
	}
	return n
}

// addGroups seeds n groups named prefix-0000.., each with lbs load balancers
// named after the group, and an activity duration (0: the emulator's).
func addGroups(e *esstest.Emulator, prefix string, n, lbs int, activity time.Duration) ([]esstest.ScalingGroup, error) {
	groups := make([]esstest.ScalingGroup, n)
	for i := range groups {
		id := fmt.Sprintf("%s-%05d", prefix, i)
		g := esstest.ScalingGroup{ScalingGroupId: id, ActivityDuration: esstest.Duration(activity)}
		for j := range lbs {
			g.LoadBalancerIds = append(g.LoadBalancerIds, fmt.Sprintf("lb-%s-%d", id, j))
		}
		if err := e.AddScalingGroup(g); err != nil {
			return nil, fmt.Errorf("seed emulator: %w", err)
		}
		groups[i] = g
	}
	return groups, nil
}
