package tasks

import (
	"testing"
	"time"
)

func TestPollSchedule(t *testing.T) {
	t.Parallel()
	const s = time.Second
	est := newPollSchedule(10*s, s, 5*s)
	none := newPollSchedule(0, s, 5*s)
	cases := []struct {
		name    string
		sched   pollSchedule
		elapsed time.Duration
		gap     time.Duration
		sample  time.Duration
	}{
		{"no estimate: first look", none, 5 * s, 5 * s, 0},
		{"no estimate: later look", none, 20 * s, 5 * s, 17500 * time.Millisecond},
		{"first look at the estimate", est, 10500 * time.Millisecond, s, 9500 * time.Millisecond},
		{"first look, a bit late", est, 10900 * time.Millisecond, s, 9900 * time.Millisecond},
		{"first follow-up", est, 11500 * time.Millisecond, 2 * s, 11 * s},
		{"second follow-up", est, 13500 * time.Millisecond, 4 * s, 12500 * time.Millisecond},
		{"third follow-up: gap capped", est, 17500 * time.Millisecond, 5 * s, 15500 * time.Millisecond},
		{"much later", est, 10 * time.Minute, 5 * s, 10*time.Minute - 2500*time.Millisecond},
	}
	for _, c := range cases {
		if c.sched == none && c.elapsed == 5*s {
			if got := c.sched.First; got != 5*s {
				t.Errorf("%s: first look at %v, want 5s", c.name, got)
			}
		}
		if got := c.sched.gap(c.elapsed); got != c.gap {
			t.Errorf("%s: gap(%v) = %v, want %v", c.name, c.elapsed, got, c.gap)
		}
		if c.sample > 0 {
			if got := c.sched.sample(c.elapsed); got != c.sample {
				t.Errorf("%s: sample(%v) = %v, want %v", c.name, c.elapsed, got, c.sample)
			}
		}
	}
	if est.First != 10500*time.Millisecond {
		t.Errorf("first look at %v, want the estimate plus half a follow-up (10.5s)", est.First)
	}
	if short := newPollSchedule(10*s, 3*s, 2*s); short.FollowUp != 2*s {
		t.Errorf("follow-up %v above the poll interval", short.FollowUp)
	}
}
