package esstest_test

import (
	"fmt"
	"sync"
	"testing"

	"essworker/essclient/esstest"
)

// TestConcurrentCalls runs many SDK clients against one emulator at once; under
// -race it shows the emulator is safe for concurrent use, and Stats shows each
// request applied exactly once.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	const workers = 8
	srv, clock := newServer(t, esstest.Config{})
	for i := range workers {
		if err := srv.AddScalingGroup(group(fmt.Sprintf("asg-%d", i), "lb-1", "lb-2")); err != nil {
			t.Fatal(err)
		}
	}
	clients := make([]*sdk, workers)
	for i := range clients {
		clients[i] = newSDK(t, srv)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for i, c := range clients {
		wg.Go(func() {
			gid := fmt.Sprintf("asg-%d", i)
			for try := range 2 { // the same token twice: once applied
				if _, err := c.detach(gid, true, "tok-"+gid, "lb-1"); err != nil {
					errs <- fmt.Errorf("%s try %d: %w", gid, try, err)
				}
			}
			if _, err := c.detach(gid, false, "", "lb-2"); err == nil {
				errs <- fmt.Errorf("%s: sync detach during the activity succeeded", gid)
			}
			if _, err := c.activities(gid, "", 0, 0); err != nil {
				errs <- err
			}
			_ = srv.Stats()
		})
	}
	wg.Go(func() { clock.Advance(esstest.DefaultActivityDuration / 4) })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	clock.Advance(esstest.DefaultActivityDuration)
	st := srv.Stats()
	if st.ActivitiesCreated != workers || st.DetachesApplied != workers {
		t.Errorf("stats = %+v, want %d activities and %d detaches", st, workers, workers)
	}
}
