package redisbatch

import (
	"context"
	"runtime"
	"sync"

	"github.com/redis/go-redis/v9"
)

// DefaultMaxCallers is how many callers one round trip carries at most when
// New is given none.
const DefaultMaxCallers = 128

// Batcher sends the commands of concurrent Do calls to Redis together. The
// first caller to find no round trip in flight leads: it takes every caller
// queued (itself included, up to the maximum), queues their commands on one
// pipeline, runs it and wakes them; when more callers queued meanwhile, the
// first of them leads the next round trip. No goroutine of its own runs: a
// Batcher needs no Close.
type Batcher struct {
	rdb redis.UniversalClient
	max int

	mu      sync.Mutex
	queued  []*caller
	running bool
}

// caller is one Do call waiting for its round trip.
type caller struct {
	queue func(redis.Pipeliner)
	// wake is closed when the caller's commands ran, or receives when the
	// caller is to lead the next round trip.
	wake chan bool
}

// New returns a Batcher sending on rdb at most maxCallers callers' commands
// per round trip (DefaultMaxCallers when maxCallers < 1).
func New(rdb redis.UniversalClient, maxCallers int) *Batcher {
	if maxCallers < 1 {
		maxCallers = DefaultMaxCallers
	}
	return &Batcher{rdb: rdb, max: maxCallers}
}

// Do calls queue with a pipeline shared with other callers, runs the pipeline
// and returns once it ran: the commands queue queued then hold their answers
// or errors, which the caller reads as it would after its own Exec. queue
// must only queue commands. The pipeline runs without the callers' contexts,
// bounded by the client's timeouts, so that one caller leaving does not fail
// the others; a caller that must not write once its context ends checks it
// before calling Do, as with a pipeline of its own.
func (b *Batcher) Do(queue func(redis.Pipeliner)) {
	c := &caller{queue: queue, wake: make(chan bool, 1)}
	b.mu.Lock()
	b.queued = append(b.queued, c)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if !lead {
		if lead = <-c.wake; !lead {
			return
		}
	}
	b.lead()
}

// lead runs the next round trip: the callers queued, up to the maximum, then
// hands the lead to the first caller left, if any.
func (b *Batcher) lead() {
	// Callers about to arrive are often runnable already: letting them run
	// first puts them in this round trip rather than the next, at no cost
	// when none is.
	runtime.Gosched()
	b.mu.Lock()
	n := min(len(b.queued), b.max)
	batch := make([]*caller, n)
	copy(batch, b.queued)
	b.queued = b.queued[:copy(b.queued, b.queued[n:])]
	b.mu.Unlock()

	pipe := b.rdb.Pipeline()
	for _, c := range batch {
		c.queue(pipe)
	}
	_, _ = pipe.Exec(context.Background()) // each command holds its own error

	b.mu.Lock()
	if len(b.queued) > 0 {
		b.queued[0].wake <- true
	} else {
		b.running = false
	}
	b.mu.Unlock()
	for _, c := range batch {
		close(c.wake)
	}
}
