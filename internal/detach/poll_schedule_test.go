package detach

import (
	"testing"
	"time"
)

func TestPollSchedule(t *testing.T) {
	t.Parallel()
	const s = time.Second
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	est := newPollSchedule(10*s, s, 5*s)
	none := newPollSchedule(0, s, 5*s)
	if none.First != s || est.First != 10*s {
		t.Fatalf("first looks at %v and %v, want the follow-up (1s) without an estimate, the estimate (10s) with one", none.First, est.First)
	}
	if short := newPollSchedule(10*s, 3*s, 2*s); short.FollowUp != 2*s {
		t.Errorf("follow-up %v above the poll interval", short.FollowUp)
	}
	cases := []struct {
		name   string
		sched  pollSchedule
		look   look
		now    time.Duration // since start
		gap    time.Duration
		sample time.Duration
	}{
		{"no estimate: first look", none, look{}, 1500 * time.Millisecond, s, 750 * time.Millisecond},
		{"first look, on time", est, look{}, 10 * s, s, 9750 * time.Millisecond},
		{"first look, late: the sample does not grow", est, look{}, 11500 * time.Millisecond, s, 9750 * time.Millisecond},
		{"second look", est, look{n: 1, previous: at(10500 * time.Millisecond)}, 11700 * time.Millisecond, 2 * s, 11100 * time.Millisecond},
		{"third look", est, look{n: 2, previous: at(12 * s)}, 14 * s, 4 * s, 13 * s},
		{"gap capped at the interval", est, look{n: 3, previous: at(14 * s)}, 18 * s, 5 * s, 16 * s},
		{"far later", est, look{n: 64, previous: at(time.Hour)}, time.Hour + 5*s, 5 * s, time.Hour + 2500*time.Millisecond},
		// The look after a failed one, a crash or a backlog teaches nothing.
		{"second look, 3s later than planned", est, look{n: 1, previous: at(10 * s)}, 14 * s, 2 * s, 0},
	}
	for _, c := range cases {
		if got := c.sched.gap(c.look); got != c.gap {
			t.Errorf("%s: gap = %v, want %v", c.name, got, c.gap)
		}
		got, ok := c.sched.sample(c.look, start, at(c.now))
		if ok != (c.sample > 0) || got != c.sample {
			t.Errorf("%s: sample = %v, %v; want %v (none when 0)", c.name, got, ok, c.sample)
		}
	}
}
