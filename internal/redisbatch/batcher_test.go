package redisbatch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

// pipelines records the pipelines a client runs (but a connection's
// handshake), and can hold the first one
// until released, so that a test knows who queues behind it.
type pipelines struct {
	mu      sync.Mutex
	sizes   []int
	hold    chan struct{}
	holding chan struct{}
}

func (p *pipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (p *pipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (p *pipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if n := cmds[0].Name(); n == "hello" || n == "client" { // a new connection's handshake
			return next(ctx, cmds)
		}
		p.mu.Lock()
		first := len(p.sizes) == 0
		p.sizes = append(p.sizes, len(cmds))
		p.mu.Unlock()
		if first && p.hold != nil {
			close(p.holding)
			<-p.hold
		}
		return next(ctx, cmds)
	}
}

func (p *pipelines) seen() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.sizes...)
}

// queuedCommands is how many commands wait for the next round trip.
func (b *Batcher) queuedCommands() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending == nil {
		return 0
	}
	return b.pending.pipe.Len()
}

func newClient(t *testing.T, p *pipelines) *redis.Client {
	t.Helper()
	c := redistest.Start(t, redistest.Options{}).Client(t)
	c.AddHook(p)
	return c
}

// TestCallersQueuedDuringARoundTripShareTheNext holds the first round trip
// while ten callers arrive: the next round trip carries them all, and every
// caller reads its own answers.
func TestCallersQueuedDuringARoundTripShareTheNext(t *testing.T) {
	p := &pipelines{hold: make(chan struct{}), holding: make(chan struct{})}
	rdb := newClient(t, p)
	b := New(rdb)
	ctx := context.Background()

	firstDone := make(chan *redis.StringCmd)
	go func() {
		var get *redis.StringCmd
		b.Do(func(pipe redis.Pipeliner) {
			pipe.Set(ctx, "k-first", "first", 0)
			get = pipe.Get(ctx, "k-first")
		})
		firstDone <- get
	}()
	<-p.holding

	const n = 10
	answers := make([]*redis.IntCmd, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var incr *redis.IntCmd
			b.Do(func(pipe redis.Pipeliner) {
				pipe.IncrBy(ctx, fmt.Sprintf("k-%d", i), int64(i+100))
				incr = pipe.IncrBy(ctx, fmt.Sprintf("k-%d", i), 1)
			})
			answers[i] = incr
		})
	}
	sharedtest.WaitFor(t, "ten callers queued behind the held round trip", 10*time.Second, func() (bool, string) {
		q := b.queuedCommands()
		return q == 2*n, fmt.Sprintf("%d commands queued", q)
	})
	close(p.hold)
	wg.Wait()

	if get := <-firstDone; get.Val() != "first" || get.Err() != nil {
		t.Errorf("first caller read %q, %v", get.Val(), get.Err())
	}
	for i, a := range answers {
		if a.Err() != nil || a.Val() != int64(i+101) {
			t.Errorf("caller %d read %d, %v; want %d", i, a.Val(), a.Err(), i+101)
		}
	}
	// Two commands per caller: the held one alone, then the ten together.
	if got, want := fmt.Sprint(p.seen()), "[2 20]"; got != want {
		t.Errorf("pipeline sizes %s, want %s", got, want)
	}
	if b.queuedCommands() != 0 || b.running {
		t.Errorf("batcher left %d commands queued, running %v", b.queuedCommands(), b.running)
	}
}

// TestCallerAloneGoesAtOnce checks a lone caller's round trip carries its
// commands only, and that a failing command fails alone.
func TestCallerAloneGoesAtOnce(t *testing.T) {
	p := &pipelines{}
	rdb := newClient(t, p)
	b := New(rdb)
	ctx := context.Background()
	var bad, good *redis.StatusCmd
	var read *redis.IntCmd
	b.Do(func(pipe redis.Pipeliner) {
		good = pipe.Set(ctx, "k", "v", 0)
		read = pipe.LLen(ctx, "k") // wrong type
		bad = pipe.Set(ctx, "k2", "v", 0)
	})
	if good.Err() != nil || bad.Err() != nil {
		t.Errorf("SETs: %v, %v", good.Err(), bad.Err())
	}
	if read.Err() == nil {
		t.Error("LLEN of a string answered no error")
	}
	if got := fmt.Sprint(p.seen()); got != "[3]" {
		t.Errorf("pipeline sizes %s, want [3]", got)
	}
}

// TestManyCallersAllAnswered runs callers from many goroutines at once: each
// reads its own answers, and every command goes in exactly one round trip.
func TestManyCallersAllAnswered(t *testing.T) {
	p := &pipelines{}
	rdb := newClient(t, p)
	b := New(rdb)
	ctx := context.Background()
	const goroutines, each = 32, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				var incr *redis.IntCmd
				b.Do(func(pipe redis.Pipeliner) { incr = pipe.Incr(ctx, fmt.Sprintf("g-%d", g)) })
				if incr.Err() != nil || incr.Val() != int64(i+1) {
					errs <- fmt.Errorf("goroutine %d call %d read %d, %v", g, i, incr.Val(), incr.Err())
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, s := range p.seen() {
		total += s
	}
	if total != goroutines*each {
		t.Errorf("round trips carried %d commands, want %d", total, goroutines*each)
	}
}

// TestPanickingQueueLeavesBatcherUsable checks a queue function that panics
// does so in its caller, and the next callers' round trips still run.
func TestPanickingQueueLeavesBatcherUsable(t *testing.T) {
	rdb := newClient(t, &pipelines{})
	b := New(rdb)
	ctx := context.Background()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the queue function's panic did not reach its caller")
			}
		}()
		b.Do(func(redis.Pipeliner) { panic("queue") })
	}()
	done := make(chan *redis.StatusCmd)
	go func() {
		var set *redis.StatusCmd
		b.Do(func(pipe redis.Pipeliner) { set = pipe.Set(ctx, "after", "1", 0) })
		done <- set
	}()
	select {
	case set := <-done:
		if set.Err() != nil || set.Val() != "OK" {
			t.Errorf("SET after the panic: %q, %v", set.Val(), set.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a caller after the panic waited 10 s: the Batcher is stuck")
	}
}
