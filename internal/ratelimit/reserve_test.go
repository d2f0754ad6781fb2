package ratelimit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

// scriptCounter is a go-redis hook that counts the limiter's reservations (one
// EVALSHA each; the EVAL after a NOSCRIPT answer is the same reservation) and
// can hold the first one back until released.
type scriptCounter struct {
	calls   atomic.Int64
	hold    chan struct{} // nil: hold nothing
	started chan struct{} // closed when the held call has begun
	once    sync.Once
}

func (h *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "evalsha" {
			if h.calls.Add(1) == 1 && h.hold != nil {
				h.once.Do(func() { close(h.started) })
				<-h.hold
			}
		}
		return next(ctx, cmd)
	}
}

// countedClient is a client of srv whose script calls h counts.
func countedClient(t *testing.T, srv *redistest.Server, h *scriptCounter) *redis.Client {
	t.Helper()
	c := srv.Client(t)
	c.AddHook(h)
	return c
}

// startLimiter is a limiter of qps calls/s on key, on a client of a Redis of
// its own, and that client.
func startLimiter(t *testing.T, key string, qps float64) (*Limiter, *redis.Client) {
	t.Helper()
	rdb := redistest.Start(t, redistest.Options{}).Client(t)
	l, err := New(rdb, key, qps)
	if err != nil {
		t.Fatal(err)
	}
	return l, rdb
}

// waitAll runs n concurrent Waits on l and returns when all are done, failing
// the test on any error.
func waitAll(t *testing.T, ctx context.Context, l *Limiter, n int) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := l.Wait(ctx); err != nil {
				t.Errorf("Wait: %v", err)
			}
		})
	}
	return &wg
}

// TestWaitersShareAReservation holds the first reservation in flight until 29
// more callers wait, and checks that those 29 then share one round trip and
// still go one interval apart.
func TestWaitersShareAReservation(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	h := &scriptCounter{hold: make(chan struct{}), started: make(chan struct{})}
	const qps, callers = 200, 30
	l, err := New(countedClient(t, srv, h), "test:share", qps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	began := time.Now()
	first := waitAll(t, ctx, l, 1)
	<-h.started
	rest := waitAll(t, ctx, l, callers-1)
	queued := func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.waiting)
	}
	sharedtest.WaitFor(t, fmt.Sprintf("%d callers queued", callers-1), 10*time.Second, func() (bool, string) {
		n := queued()
		return n >= callers-1, fmt.Sprint(n, " queued")
	})
	close(h.hold)
	first.Wait()
	rest.Wait()
	if got := h.calls.Load(); got != 2 {
		t.Errorf("%d reservations for %d callers, want 2 (the held one, then one for the %d that waited)", got, callers, callers-1)
	}
	// Delays only make the calls later, so the rate is a floor on the time.
	if min := time.Duration(callers-1) * time.Second / qps; time.Since(began) < min-2*time.Millisecond {
		t.Errorf("%d calls at %d/s done in %v, want at least %v", callers, qps, time.Since(began), min)
	}
}

// TestBacklogDoesNotPoll has three limiters (three workers) share a bucket with
// a backlog of callers, and checks that no caller asks Redis more than once per
// call it makes: waiters sleep until their slot instead of asking again.
func TestBacklogDoesNotPoll(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	const qps, workers, callersEach, rounds = 50, 3, 10, 2
	h := &scriptCounter{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	began := time.Now()
	var all sync.WaitGroup
	for range workers {
		l, err := New(countedClient(t, srv, h), "test:backlog", qps)
		if err != nil {
			t.Fatal(err)
		}
		all.Go(func() {
			for range rounds {
				waitAll(t, ctx, l, callersEach).Wait()
			}
		})
	}
	all.Wait()
	calls := workers * callersEach * rounds
	if got := h.calls.Load(); got > int64(calls) {
		t.Errorf("%d reservations for %d calls: waiters asked Redis again", got, calls)
	}
	if min := time.Duration(calls-1) * time.Second / qps; time.Since(began) < min-2*time.Millisecond {
		t.Errorf("%d calls at %d/s done in %v, want at least %v", calls, qps, time.Since(began), min)
	}
}

// TestHorizon checks that a reservation takes only the slots that start within
// the horizon, and that a caller past it gets its turn later. Slots are 1 s
// apart so that the test holds even when a loaded machine stalls it for up to
// a second between two reservations.
func TestHorizon(t *testing.T) {
	t.Parallel()
	l, _ := startLimiter(t, "test:horizon", 1)
	l.horizon = 2 * time.Second
	n, wait, err := l.reserveSlots(20)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || wait != 0 {
		t.Fatalf("first reservation: %d slots after %v, want the 3 starting within 2s (at 0, 1s and 2s), at once", n, wait)
	}
	n, wait, err = l.reserveSlots(1)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 || wait <= l.horizon || wait > 3*time.Second {
		t.Fatalf("reservation past the horizon: %d slots, next in %v; want 0 slots, next in (2s, 3s]", n, wait)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	began := time.Now()
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("Wait past the horizon: %v", err)
	}
	if d := time.Since(began); d < time.Second {
		t.Errorf("Wait past the horizon returned after %v; the next free slot was at least 1s away", d)
	}
}

// TestSharesTimelineWithRedisRate checks that the limiter and go-redis/
// redis_rate with burst 1 (the limiter of workers that call redis_rate
// directly) take turns on one timeline, so a fleet running both does not
// double its rate.
func TestSharesTimelineWithRedisRate(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client(t)
	old := redis_rate.NewLimiter(rdb)
	perSecond := redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Second}
	ctx := context.Background()

	l, err := New(rdb, "test:mixed-new-first", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := old.Allow(ctx, "test:mixed-new-first", perSecond)
	if err != nil {
		t.Fatal(err)
	}
	// Without a shared timeline redis_rate would allow the call; the slack is
	// for a slow machine between the two calls.
	if res.Allowed != 0 || res.RetryAfter <= 500*time.Millisecond || res.RetryAfter > time.Second {
		t.Errorf("redis_rate after the limiter's call: allowed %d, retry after %v; want denied for about 1s", res.Allowed, res.RetryAfter)
	}

	res, err = old.Allow(ctx, "test:mixed-old-first", perSecond)
	if err != nil || res.Allowed != 1 {
		t.Fatalf("redis_rate on a fresh key: %+v, %v", res, err)
	}
	l, err = New(rdb, "test:mixed-old-first", 1)
	if err != nil {
		t.Fatal(err)
	}
	n, wait, err := l.reserveSlots(1)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || wait <= 500*time.Millisecond || wait > time.Second {
		t.Errorf("limiter after redis_rate's call: %d slots after %v; want 1 slot about 1s later", n, wait)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	t.Parallel()
	l, _ := startLimiter(t, "test:ctx", 0.2) // one call per 5 s
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := l.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("second call within 5 s: %v; want the context's error", err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("Wait returned %v after its context ended", d)
	}
}

func TestRedisErrorIsReturned(t *testing.T) {
	t.Parallel()
	l, rdb := startLimiter(t, "test:closed", 10)
	_ = rdb.Close()
	err := l.Wait(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "ratelimit: reserve:") {
		t.Fatalf("Wait on a closed client: %v; want a ratelimit: reserve: error", err)
	}
}

func TestNewRejectsNonPositive(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, "k", 0); err == nil {
		t.Fatal("qps 0 accepted")
	}
}
