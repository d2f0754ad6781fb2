package e2e

import (
	"strconv"
	"testing"
	"time"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

// TestLatePollDoesNotSlowTheGroup: a job whose look at its activity came late
// (here ESS throttled its polls; a crash or a Redis outage does the same) must
// not make the next jobs of its group wait as long before their first look.
// The group's activities take one second throughout.
func TestLatePollDoesNotSlowTheGroup(t *testing.T) {
	light(t)
	t.Parallel()
	const (
		activity = time.Second
		// nextJobBound: the activity, the snooze rounded to a whole second,
		// asynq's one-second check of snoozed jobs, and room for a loaded machine.
		nextJobBound = activity + 3500*time.Millisecond
	)
	rs := redistest.Start(t, redistest.Options{})
	lbs := []string{"lb-est-1", "lb-est-2", "lb-est-3"}
	emu := startEmulator(t, emulatorConfig{
		ActivityDuration: activity,
		Groups:           []esstest.ScalingGroup{{ScalingGroupId: "asg-est", LoadBalancerIds: lbs}},
	})
	startWorker(t, "worker-1", rs.URL(0), emu.url)
	enqueueJob := func(lb string, wait bool) ([]map[string]any, time.Duration) {
		args := []string{"--redis-url", rs.URL(0), "--group", "asg-est", "--lb", lb, "--async", "--token", "est-" + lb}
		if wait {
			args = append(args, "--wait", "--wait-timeout", "90s")
		}
		began := time.Now()
		lines, code := runEnqueue(t, "", args...)
		if code != 0 {
			t.Fatalf("enqueue %s: exit %d, %v", lb, code, lines)
		}
		return lines, time.Since(began)
	}

	// The first job's polls are throttled twice, so it notices the end of its
	// one-second activity only seconds later.
	emu.setFaults(t, esstest.FaultPlan{esstest.ActionDescribeScalingActivities: {ErrorRate: 1, ErrorCodes: []string{"Throttling.User"}}})
	enqueueJob(lbs[0], false)
	sharedtest.WaitFor(t, "two throttled polls", 60*time.Second, func() (bool, string) {
		n := emu.stats(t).Calls[esstest.ActionDescribeScalingActivities]["Throttling.User"]
		return n >= 2, "throttled=" + strconv.Itoa(n)
	})
	emu.setFaults(t, esstest.FaultPlan{})
	_, first := enqueueJob(lbs[0], true) // a duplicate: waits for the first job's end
	t.Logf("first job (throttled polls) ended %v after the wait began", first.Round(time.Millisecond))

	// The next jobs of the group meet no fault: each should end about when its
	// activity does.
	for _, lb := range lbs[1:] {
		lines, took := enqueueJob(lb, true)
		if len(lines) != 2 || lines[1]["state"] != "completed" {
			t.Fatalf("job %s: %v", lb, lines)
		}
		if took > nextJobBound {
			t.Errorf("job %s took %v for a %v activity, want at most %v: the throttled job's late look inflated the group's activity estimate (see the worker log's first_poll)",
				lb, took.Round(time.Millisecond), activity, nextJobBound)
		}
	}
	s := emu.stats(t)
	if s.DetachesApplied != len(lbs) || s.ActivitiesCreated != len(lbs) {
		t.Errorf("stats %+v: want %d detaches applied, %d activities", s, len(lbs), len(lbs))
	}
	t.Logf("summary: jobs=%d throttled_polls=%d detaches_applied=%d applied_twice=%d",
		len(lbs), s.Calls[esstest.ActionDescribeScalingActivities]["Throttling.User"], s.DetachesApplied, max(0, s.DetachesApplied-len(lbs)))
}
