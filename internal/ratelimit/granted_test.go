package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/internal/redistest"
)

// grantScript is what another package's script does with ReserveFunc: one
// slot, reserved in its own round trip.
var grantScript = redis.NewScript("redis.replicate_commands()" + ReserveFunc +
	"return reserve(KEYS[1], tonumber(ARGV[1]), 1, tonumber(ARGV[2]))")

// TestGrantedSlotIsWaitedOnOnce reserves a slot through an embedding script,
// and checks that the next Wait under that context takes it without a
// reservation of its own, that a second Wait reserves as usual, and that the
// granted slot took its place on the shared timeline.
func TestGrantedSlotIsWaitedOnOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	h := &scriptCounter{}
	const qps = 10
	l, err := New(countedClient(t, srv, h), "test:granted", qps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	interval, horizon := l.ReserveArgs()
	answer, err := grantScript.Run(ctx, srv.Client(t), []string{l.Key()}, interval, horizon).Slice()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	gctx, err := l.Granted(ctx, answer)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(gctx); err != nil {
		t.Fatal(err)
	}
	if got, d := h.calls.Load(), time.Since(began); got != 0 || d > time.Second/qps/2 {
		t.Fatalf("a Wait on a granted slot made %d reservations and took %v, want none and at once", got, d)
	}
	if err := l.Wait(gctx); err != nil {
		t.Fatal(err)
	}
	if got := h.calls.Load(); got != 1 {
		t.Fatalf("the second Wait under the granted context made %d reservations, want 1", got)
	}
	// The granted slot and the second Wait's took two slots of the timeline
	// in turn: the second one interval after the first.
	if d, min := time.Since(began), time.Second/qps; d < min-2*time.Millisecond {
		t.Errorf("two calls at %d/s within %v, want at least %v apart", qps, d, min)
	}
}

// TestGrantedNothingPastTheHorizon checks that an answer with no slot (the
// horizon was full) leaves the context as is.
func TestGrantedNothingPastTheHorizon(t *testing.T) {
	t.Parallel()
	l, _ := startLimiter(t, "test:granted-none", 10)
	ctx := context.Background()
	got, err := l.Granted(ctx, []any{int64(0), "6.5"})
	if err != nil || got != ctx {
		t.Fatalf("Granted(no slot) = %v, %v; want the same context", got, err)
	}
	if _, err := l.Granted(ctx, []any{"x"}); err == nil {
		t.Fatal("Granted accepted a malformed answer")
	}
}
