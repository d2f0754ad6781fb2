package tasks

import (
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// MaxScheduleAhead bounds how far ahead a job may be scheduled: 30 days.
const MaxScheduleAhead = 30 * 24 * time.Hour

// ErrInvalidSchedule is wrapped by the error of a scheduled time in the past
// or more than MaxScheduleAhead ahead. Nothing of such a request is queued.
var ErrInvalidSchedule = errors.New("invalid schedule")

// Schedule is when the jobs of a request run: no earlier than its Time. The
// zero Schedule runs them at once. ScheduleAt and ScheduleIn make the others,
// so a Schedule's time is always a whole second within MaxScheduleAhead of
// when it was made.
type Schedule struct {
	at time.Time
}

// ScheduleAt returns the Schedule of jobs that run no earlier than at. asynq
// keeps a task's process time in whole seconds, rounded down, so at is
// rounded up to a whole second. at before now, or more than MaxScheduleAhead
// after it, is an error wrapping ErrInvalidSchedule.
func ScheduleAt(at, now time.Time) (Schedule, error) {
	switch {
	case at.Before(now):
		return Schedule{}, fmt.Errorf("%w: %s is in the past", ErrInvalidSchedule, at.Format(time.RFC3339Nano))
	case at.Sub(now) > MaxScheduleAhead:
		return Schedule{}, fmt.Errorf("%w: %s is more than 30 days ahead", ErrInvalidSchedule, at.Format(time.RFC3339Nano))
	}
	return Schedule{at: ceilSecond(at)}, nil
}

// ScheduleIn returns the Schedule of jobs that run no earlier than d after
// now, as ScheduleAt(now.Add(d), now); a negative d is an error.
func ScheduleIn(d time.Duration, now time.Time) (Schedule, error) {
	switch {
	case d < 0:
		return Schedule{}, fmt.Errorf("%w: %v is negative", ErrInvalidSchedule, d)
	case d > MaxScheduleAhead:
		return Schedule{}, fmt.Errorf("%w: %v is more than 30 days ahead", ErrInvalidSchedule, d)
	}
	return ScheduleAt(now.Add(d), now)
}

// Time is the whole second from which the jobs may run; the zero time for
// the zero Schedule.
func (s Schedule) Time() time.Time { return s.at }

// IsZero reports whether s runs the jobs at once.
func (s Schedule) IsZero() bool { return s.at.IsZero() }

// options are the asynq options that carry s: none for the zero Schedule.
func (s Schedule) options() []asynq.Option {
	if s.IsZero() {
		return nil
	}
	return []asynq.Option{asynq.ProcessAt(s.at)}
}

// ceilSecond rounds t up to a whole second, and drops its monotonic reading.
func ceilSecond(t time.Time) time.Time {
	down := t.Truncate(time.Second)
	if down.Equal(t) {
		return down
	}
	return down.Add(time.Second)
}

// scheduleOf reads the schedule asynq's options ask for, as asynq reads
// them (the last asynq.ProcessAt or asynq.ProcessIn wins), through ScheduleAt
// or ScheduleIn: the zero Schedule without one.
func scheduleOf(opts []asynq.Option, now time.Time) (Schedule, error) {
	var s Schedule
	var err error
	for _, o := range opts {
		if o == nil {
			continue
		}
		switch v := o.Value().(type) {
		case time.Time:
			if o.Type() == asynq.ProcessAtOpt {
				s, err = ScheduleAt(v, now)
			}
		case time.Duration:
			if o.Type() == asynq.ProcessInOpt {
				s, err = ScheduleIn(v, now)
			}
		}
	}
	return s, err
}

// stateOf is the EnqueueResult state of a job asynq queued in state st.
func stateOf(st asynq.TaskState) string {
	if st == asynq.TaskStateScheduled {
		return StateScheduled
	}
	return StateEnqueued
}
