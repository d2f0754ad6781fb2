package sharedtest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The pause between two looks at a condition starts at firstPoll, so a wait
// that ends soon ends soon after, and doubles up to maxPoll, so a condition
// that reads a server (a stats page, a queue's tasks) loads it little over a
// long wait.
const (
	firstPoll = 5 * time.Millisecond
	maxPoll   = 100 * time.Millisecond
)

// WaitFor calls cond until it reports true. When within has passed first, it
// fails t with what it waited for and the state cond reported last:
//
//	the job ends: not within 10s (last seen: state retry)
//
// cond returns whether it holds and, either way, what it saw.
func WaitFor(t testing.TB, what string, within time.Duration, cond func() (ok bool, state string)) {
	t.Helper()
	// context.Background rather than t.Context: WaitFor also serves in
	// t.Cleanup, where t.Context has ended.
	if err := Wait(context.Background(), what, within, cond); err != nil {
		t.Fatal(err)
	}
}

// Wait is WaitFor for code without a testing.TB: it returns the error WaitFor
// would fail with, or the end of ctx, wrapped.
func Wait(ctx context.Context, what string, within time.Duration, cond func() (ok bool, state string)) error {
	deadline := time.Now().Add(within)
	pause := firstPoll
	timer := time.NewTimer(pause)
	defer timer.Stop()
	for {
		ok, state := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v (last seen: %s)", what, within, state)
		}
		timer.Reset(pause)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last seen: %s)", what, ctx.Err(), state)
		case <-timer.C:
		}
		pause = min(2*pause, maxPoll)
	}
}
