package detach

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"essworker/essclient"
	"essworker/essclient/esstest"
)

// TestBatcherSharesOneCall starts 25 activities and looks them all up at once:
// two calls (20 + 5 IDs) serve every look-up, and each caller finds its own.
func TestBatcherSharesOneCall(t *testing.T) {
	t.Parallel()
	emu := esstest.NewServer(esstest.Config{ActivityDuration: time.Hour})
	t.Cleanup(emu.Close)
	ess, err := essclient.New(essclient.Config{Endpoint: emu.URL, DefaultRegion: esstest.DefaultRegionID,
		Credentials: emu.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ess.Close)
	const n = 25
	ids := make([]string, n)
	for i := range n {
		g := fmt.Sprintf("asg-b%d", i)
		if err := emu.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: g, LoadBalancerIds: []string{"lb-1"}}); err != nil {
			t.Fatal(err)
		}
		res, err := ess.DetachLoadBalancers(context.Background(), essclient.DetachRequest{
			ScalingGroupID: g, LoadBalancerIDs: []string{"lb-1"}, Async: true, ClientToken: g})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.ScalingActivityID
	}
	b := newActivityBatcher(ess, 200*time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.describe(context.Background(), "", id)
			if err != nil {
				errs <- err
				return
			}
			for _, a := range res.Activities {
				if a.ScalingActivityID == id && a.StatusCode == essclient.StatusInProgress {
					return
				}
			}
			errs <- fmt.Errorf("activity %s not in its batch's answer (%d activities)", id, len(res.Activities))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if calls := emu.Stats().Calls[essclient.ActionDescribeScalingActivities]["OK"]; calls != 2 {
		t.Fatalf("%d DescribeScalingActivities calls for %d look-ups, want 2", calls, n)
	}
}
