package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"essworker/internal/ratelimit"
	"essworker/internal/redistest"
)

// TestFleetWideRate runs three limiters (three workers) on one bucket and checks
// that together they never pass more calls in any one-second window than the rate.
func TestFleetWideRate(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	const qps, workers, callsEach = 20, 3, 14
	var (
		mu    sync.Mutex
		times []time.Time
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range workers {
		l, err := ratelimit.New(srv.Client(t), "test:fleet", qps)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range callsEach {
				if err := l.Wait(ctx); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(times) != workers*callsEach {
		t.Fatalf("got %d calls, want %d", len(times), workers*callsEach)
	}
	for _, a := range times {
		n := 0
		for _, b := range times {
			if !b.Before(a) && b.Sub(a) < time.Second {
				n++
			}
		}
		// One extra for a call landing exactly on the window's edge.
		if n > qps+1 {
			t.Fatalf("%d calls within one second starting %v; limit %d", n, a, qps)
		}
	}
}
