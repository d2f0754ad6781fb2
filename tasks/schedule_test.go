package tasks

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// scheduleNow is the fixed "now" of the schedule tests: a whole second plus
// 250ms, so that rounding up is visible.
var scheduleNow = time.Date(2026, 12, 1, 12, 0, 0, 250e6, time.UTC)

func TestScheduleAt(t *testing.T) {
	t.Parallel()
	whole := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		at   time.Time
		want time.Time // zero: an error
	}{
		{"whole second stays", whole, whole},
		{"a nanosecond past a second rounds up", whole.Add(time.Nanosecond), whole.Add(time.Second)},
		{"999ms past a second rounds up", whole.Add(999 * time.Millisecond), whole.Add(time.Second)},
		{"now rounds up", scheduleNow, time.Date(2026, 12, 1, 12, 0, 1, 0, time.UTC)},
		{"another zone", whole.In(time.FixedZone("UTC+8", 8*3600)).Add(time.Millisecond), whole.Add(time.Second)},
		{"exactly 30 days ahead", scheduleNow.Add(MaxScheduleAhead), scheduleNow.Add(MaxScheduleAhead).Truncate(time.Second).Add(time.Second)},
		{"a nanosecond past now is the past", scheduleNow.Add(-time.Nanosecond), time.Time{}},
		{"last year", scheduleNow.AddDate(-1, 0, 0), time.Time{}},
		{"a nanosecond more than 30 days", scheduleNow.Add(MaxScheduleAhead + time.Nanosecond), time.Time{}},
	}
	for _, tc := range cases {
		s, err := ScheduleAt(tc.at, scheduleNow)
		switch {
		case tc.want.IsZero() && (!errors.Is(err, ErrInvalidSchedule) || !s.IsZero()):
			t.Errorf("%s: ScheduleAt(%v) = %v, %v; want an ErrInvalidSchedule", tc.name, tc.at, s.Time(), err)
		case !tc.want.IsZero() && (err != nil || !s.Time().Equal(tc.want)):
			t.Errorf("%s: ScheduleAt(%v) = %v, %v; want %v", tc.name, tc.at, s.Time(), err, tc.want)
		}
	}
}

func TestScheduleIn(t *testing.T) {
	t.Parallel()
	next := time.Date(2026, 12, 1, 12, 0, 1, 0, time.UTC)
	cases := []struct {
		d    time.Duration
		want time.Time // zero: an error
	}{
		{0, next},
		{750 * time.Millisecond, next},
		{751 * time.Millisecond, next.Add(time.Second)},
		{90 * time.Minute, next.Add(90 * time.Minute)},
		{MaxScheduleAhead, next.Add(MaxScheduleAhead)},
		{-time.Second, time.Time{}},
		{MaxScheduleAhead + time.Second, time.Time{}},
	}
	for _, tc := range cases {
		s, err := ScheduleIn(tc.d, scheduleNow)
		switch {
		case tc.want.IsZero() && !errors.Is(err, ErrInvalidSchedule):
			t.Errorf("ScheduleIn(%v) = %v, %v; want an ErrInvalidSchedule", tc.d, s.Time(), err)
		case !tc.want.IsZero() && (err != nil || !s.Time().Equal(tc.want)):
			t.Errorf("ScheduleIn(%v) = %v, %v; want %v", tc.d, s.Time(), err, tc.want)
		}
	}
	if err := errString(ScheduleIn(-5*time.Minute, scheduleNow)); err != "invalid schedule: -5m0s is negative" {
		t.Errorf("error text %q", err)
	}
}

func errString(_ Schedule, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// wantScheduled fails t unless the task is scheduled for exactly at, and
// its HeaderEnqueuedAt holds at, so the wait is not counted in its duration.
func wantScheduled(t *testing.T, insp *asynq.Inspector, queue, taskID string, at time.Time) {
	t.Helper()
	info, err := insp.GetTaskInfo(queue, taskID)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != asynq.TaskStateScheduled || !info.NextProcessAt.Equal(at) {
		t.Errorf("task %s: state %v, next process at %v; want scheduled at %v", taskID, info.State, info.NextProcessAt, at)
	}
	if h := info.Headers[HeaderEnqueuedAt]; h != strconv.FormatInt(at.UnixNano(), 10) {
		t.Errorf("task %s: header %s %q, want %d", taskID, HeaderEnqueuedAt, h, at.UnixNano())
	}
}

func TestEnqueueScheduled(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	ctx := context.Background()

	// ProcessAt a time between seconds: stored as the next second.
	at := time.Now().Add(time.Hour).Truncate(time.Second).Add(300 * time.Millisecond)
	p := contractPayload()
	p.ClientToken = "scheduled-at"
	got, err := Enqueue(ctx, client, p, asynq.Queue(queue), asynq.ProcessAt(at))
	if err != nil {
		t.Fatal(err)
	}
	want := []EnqueueResult{{TaskID: TaskID(p.ClientToken), ClientToken: p.ClientToken, Queue: queue, State: StateScheduled}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Enqueue = %+v, want %+v", got, want)
	}
	wantScheduled(t, insp, queue, TaskID(p.ClientToken), at.Truncate(time.Second).Add(time.Second))

	// The same job again is a duplicate, and keeps its time.
	again, err := Enqueue(ctx, client, p, asynq.Queue(queue), asynq.ProcessAt(at.Add(time.Hour)))
	if err != nil || len(again) != 1 || again[0].State != StateDuplicate {
		t.Fatalf("second Enqueue = %+v, %v; want a duplicate", again, err)
	}
	wantScheduled(t, insp, queue, TaskID(p.ClientToken), at.Truncate(time.Second).Add(time.Second))

	// ProcessIn: the stored time is a whole second in [before+d, after+d+1s).
	p.ClientToken = "scheduled-in"
	before := time.Now()
	if got, err := Enqueue(ctx, client, p, asynq.Queue(queue), asynq.ProcessIn(90*time.Minute)); err != nil || got[0].State != StateScheduled {
		t.Fatalf("Enqueue with ProcessIn = %+v, %v", got, err)
	}
	after := time.Now()
	info, err := insp.GetTaskInfo(queue, TaskID(p.ClientToken))
	if err != nil {
		t.Fatal(err)
	}
	next := info.NextProcessAt
	if next.Before(before.Add(90*time.Minute)) || !next.Before(after.Add(90*time.Minute+time.Second)) || next.Nanosecond() != 0 {
		t.Errorf("ProcessIn(90m) between %v and %v: scheduled at %v", before, after, next)
	}

	// Out of bounds: an error, nothing queued.
	for name, opt := range map[string]asynq.Option{
		"past":           asynq.ProcessAt(time.Now().Add(-time.Minute)),
		"31 days":        asynq.ProcessAt(time.Now().Add(31 * 24 * time.Hour)),
		"negative delay": asynq.ProcessIn(-time.Minute),
		"delay too long": asynq.ProcessIn(MaxScheduleAhead + time.Minute),
	} {
		p.ClientToken = "refused-" + name
		p.LoadBalancerIds = lbIDs(7)
		if got, err := Enqueue(ctx, client, p, asynq.Queue(queue), opt); !errors.Is(err, ErrInvalidSchedule) || got != nil {
			t.Errorf("%s: Enqueue = %+v, %v; want an ErrInvalidSchedule", name, got, err)
		}
	}
	assertQueueSize(t, insp, queue, 2)
}

func TestProducerEnqueueAt(t *testing.T) {
	t.Parallel()
	p, _, insp := newTestProducer(t)
	ctx := context.Background()
	s, err := ScheduleAt(time.Now().Add(2*time.Hour+123*time.Millisecond), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req := contractPayload()
	req.LoadBalancerIds = lbIDs(7)
	got, err := p.EnqueueAt(ctx, "q1", s, req)
	if err != nil {
		t.Fatal(err)
	}
	var want []EnqueueResult
	for i := range 2 {
		token := ChunkToken(req.ClientToken, i)
		want = append(want, EnqueueResult{TaskID: TaskID(token), ClientToken: token, Queue: "q1", State: StateScheduled})
		wantScheduled(t, insp, "q1", TaskID(token), s.Time())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("EnqueueAt = %+v, want %+v", got, want)
	}

	// Again, at once or at another time: duplicates, the time kept.
	again, err := p.Enqueue(ctx, "q1", req)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].State = StateDuplicate
		wantScheduled(t, insp, "q1", want[i].TaskID, s.Time())
	}
	if !reflect.DeepEqual(again, want) {
		t.Fatalf("Enqueue again = %+v, want %+v", again, want)
	}

	// The zero Schedule queues at once.
	req.ClientToken = "at-once"
	req.LoadBalancerIds = lbIDs(1)
	now, err := p.EnqueueAt(ctx, "q1", Schedule{}, req)
	if err != nil || len(now) != 1 || now[0].State != StateEnqueued {
		t.Fatalf("EnqueueAt with the zero Schedule = %+v, %v; want one enqueued job", now, err)
	}
	if info, err := insp.GetTaskInfo("q1", TaskID("at-once")); err != nil || info.State != asynq.TaskStatePending {
		t.Fatalf("job queued at once: %+v, %v; want pending", info, err)
	}
}

// A drain is scheduled as a detach job is: state scheduled, its time and
// HeaderEnqueuedAt the rounded-up time.
func TestProducerEnqueueDrainAt(t *testing.T) {
	t.Parallel()
	p, _, insp := newTestProducer(t)
	s, err := ScheduleIn(90*time.Minute+250*time.Millisecond, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d := DrainPayload{LoadBalancerId: "lb-x", ClientToken: "drain-at"}
	got, err := p.EnqueueDrainAt(context.Background(), "q1", s, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := (EnqueueResult{TaskID: DrainTaskID(d.ClientToken), ClientToken: d.ClientToken, Queue: "q1", State: StateScheduled}); got != want {
		t.Fatalf("EnqueueDrainAt = %+v, want %+v", got, want)
	}
	wantScheduled(t, insp, "q1", DrainTaskID(d.ClientToken), s.Time())
}
