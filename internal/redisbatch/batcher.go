package redisbatch

import (
	"context"
	"runtime"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Batcher sends the commands of concurrent Do calls to Redis together. Each
// caller queues its commands on the pending round trip and waits for it; the
// first caller to find no round trip in flight leads: it runs the pending
// one, and when callers queued another meanwhile, one of them leads that.
// No goroutine of its own runs: a Batcher needs no Close.
type Batcher struct {
	rdb redis.UniversalClient

	mu sync.Mutex
	// pending is the round trip callers queue on, nil when none is queued.
	pending *round
	// running says a round trip is in flight, or about to be: its leader
	// takes the pending one.
	running bool
}

// round is one round trip: the pipeline its callers queue on.
type round struct {
	pipe redis.Pipeliner
	// done is closed once the pipeline ran.
	done chan struct{}
	// lead receives once, when the round's turn comes while another round
	// trip was in flight: the caller that takes it runs the round.
	lead chan struct{}
}

// New returns a Batcher sending on rdb.
func New(rdb redis.UniversalClient) *Batcher {
	return &Batcher{rdb: rdb}
}

// Do calls queue with the pending round trip's pipeline, shared with other
// callers, and returns once it ran: the commands queue queued then hold
// their answers or errors, which the caller reads as it would after its own
// Exec. queue runs under the Batcher's lock and must only queue commands. The
// pipeline runs without the callers' contexts, bounded by the client's
// timeouts, so that one caller leaving does not fail the others; a caller
// that must not write once its context ends checks it before calling Do, as
// with a pipeline of its own.
func (b *Batcher) Do(queue func(redis.Pipeliner)) {
	r, lead := b.join(queue)
	if lead {
		b.run()
		return
	}
	select {
	case <-r.done:
	case <-r.lead:
		b.run()
	}
}

// join queues the caller's commands on the pending round trip, and says
// whether the caller leads it.
func (b *Batcher) join(queue func(redis.Pipeliner)) (*round, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending == nil {
		b.pending = &round{pipe: b.rdb.Pipeline(), done: make(chan struct{}), lead: make(chan struct{}, 1)}
	}
	r := b.pending
	queue(r.pipe)
	lead := !b.running
	b.running = true
	return r, lead
}

// run sends the pending round trip and wakes its callers, then hands the
// lead to a caller of the round queued meanwhile, if any.
func (b *Batcher) run() {
	// Callers about to arrive are often runnable already: letting them run
	// first puts them in this round trip rather than the next, at no cost
	// when none is.
	runtime.Gosched()
	b.mu.Lock()
	r := b.pending
	b.pending = nil
	b.mu.Unlock()

	_, _ = r.pipe.Exec(context.Background()) // each command holds its own error
	close(r.done)

	b.mu.Lock()
	if b.pending != nil {
		b.pending.lead <- struct{}{}
	} else {
		b.running = false
	}
	b.mu.Unlock()
}
