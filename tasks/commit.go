package tasks

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxBatchJobs bounds the jobs one round trip of the committer carries; a
// submission with more goes alone.
const maxBatchJobs = 512

// commitJob is one job of a submission: what commitScript writes, and what it
// found.
type commitJob struct {
	id  string
	msg []byte    // the encoded TaskMessage
	at  time.Time // no earlier than: scheduled when still ahead at the write
	// Answers of the round trip.
	scheduled bool   // written to the scheduled set (else pending)
	foundIn   string // the queue holding id, "" for none
	stored    string // the stored msg, when foundIn is the submission's queue
}

// submission is one call's jobs for one queue: written all together, or not
// at all when any job's task ID or any shadow ID exists in any queue.
type submission struct {
	queue   string
	jobs    []*commitJob
	shadows []string // task IDs that must not exist: see shadowToken
	// Answers of the round trip.
	written      bool
	refused      string   // why its new jobs cannot be queued, e.g. a key of another type
	shadowsFound []string // the queue holding each shadow ID, "" for none
	err          error
	done         chan struct{}
}

// committer sends concurrent submissions to Redis together (group commit):
// one goroutine, started when a submission finds none running, takes every
// submission queued while the previous round trip ran (up to maxBatchJobs
// jobs) and sends them in one commitScript call; it ends when none is left.
// There is no time window: a submission alone goes at once.
type committer struct {
	rdb redis.Scripter

	mu      sync.Mutex
	queued  []*submission
	running bool
}

// commit sends s and waits for its answer. When ctx ends before s is taken
// into a round trip, s is withdrawn and ctx's error returned; once taken, s
// is answered whatever ctx does, so the caller knows whether it was written.
// The round trip itself runs without the callers' contexts, bounded by the
// Redis client's timeouts: one caller leaving does not fail the others.
func (c *committer) commit(ctx context.Context, s *submission) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	c.mu.Lock()
	c.queued = append(c.queued, s)
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.run()
	}
	select {
	case <-s.done:
		return s.err
	case <-ctx.Done():
		if c.withdraw(s) {
			return ctx.Err()
		}
		<-s.done
		return s.err
	}
}

// withdraw removes s from the queued submissions; false when a round trip
// has taken it already.
func (c *committer) withdraw(s *submission) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.queued, s)
	if i < 0 {
		return false
	}
	c.queued = slices.Delete(c.queued, i, i+1)
	return true
}

// run sends batches until none is queued.
func (c *committer) run() {
	for {
		batch := c.next()
		if batch == nil {
			return
		}
		err := runCommitScript(context.Background(), c.rdb, batch, time.Now())
		for _, s := range batch {
			s.err = err
			close(s.done)
		}
	}
}

// next takes the submissions of the next batch, in the order they came: at
// least one, then as many as fit in maxBatchJobs. With none queued, it marks
// the committer stopped and returns nil.
func (c *committer) next() []*submission {
	// Submissions about to arrive are often runnable already: letting them
	// run first puts them in this round trip rather than the next, at no
	// cost when none is.
	runtime.Gosched()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queued) == 0 {
		c.running = false
		return nil
	}
	n, jobs := 1, len(c.queued[0].jobs)
	for n < len(c.queued) && jobs+len(c.queued[n].jobs) <= maxBatchJobs {
		jobs += len(c.queued[n].jobs)
		n++
	}
	batch := slices.Clone(c.queued[:n])
	c.queued = slices.Delete(c.queued, 0, n)
	return batch
}
