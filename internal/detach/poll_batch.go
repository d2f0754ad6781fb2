package detach

import (
	"context"
	"sync"
	"time"

	"essworker/essclient"
)

// DefaultBatchWindow is how long the first poll of a batch waits for others to
// join it.
const DefaultBatchWindow = 20 * time.Millisecond

// batchCallTimeout bounds a batch's ESS call, which no single job's context owns.
const batchCallTimeout = time.Minute

// activityBatcher merges the activity look-ups of jobs that poll at the same
// moment (asynq hands snoozed jobs back together) into one
// DescribeScalingActivities call per region of up to MaxActivityIDsPerCall IDs,
// so a fleet following many activities spends few calls of its ESS quota.
type activityBatcher struct {
	ess    essclient.API
	window time.Duration
	mu     sync.Mutex
	open   map[string]*activityBatch // by region; batches still taking IDs
}

type activityBatch struct {
	ids  []string
	full chan struct{} // closed when the batch has MaxActivityIDsPerCall IDs
	done chan struct{} // closed when res and err are set
	res  essclient.ActivitiesResult
	err  error
}

func newActivityBatcher(ess essclient.API, window time.Duration) *activityBatcher {
	return &activityBatcher{ess: ess, window: window, open: map[string]*activityBatch{}}
}

// describe looks up one activity as part of a batch. The answer lists every
// activity of the batch that ESS knows; the caller picks its own.
func (b *activityBatcher) describe(ctx context.Context, region, id string) (essclient.ActivitiesResult, error) {
	b.mu.Lock()
	batch := b.open[region]
	if batch == nil {
		batch = &activityBatch{full: make(chan struct{}), done: make(chan struct{})}
		b.open[region] = batch
		go b.run(region, batch)
	}
	batch.ids = append(batch.ids, id)
	if len(batch.ids) == essclient.MaxActivityIDsPerCall {
		delete(b.open, region)
		close(batch.full)
	}
	b.mu.Unlock()
	select {
	case <-batch.done:
		return batch.res, batch.err
	case <-ctx.Done():
		return essclient.ActivitiesResult{}, ctx.Err()
	}
}

// run closes the batch after the window (or when full) and makes its call.
func (b *activityBatcher) run(region string, batch *activityBatch) {
	t := time.NewTimer(b.window)
	select {
	case <-t.C:
	case <-batch.full:
		t.Stop()
	}
	b.mu.Lock()
	if b.open[region] == batch {
		delete(b.open, region)
	}
	ids := uniq(batch.ids)
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), batchCallTimeout)
	defer cancel()
	batch.res, batch.err = b.ess.DescribeScalingActivities(ctx, region, ids)
	close(batch.done)
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
