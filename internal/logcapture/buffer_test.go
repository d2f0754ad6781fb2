package logcapture_test

import (
	"strings"
	"sync"
	"testing"

	"essworker/internal/logcapture"
)

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b logcapture.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 800 {
		t.Fatalf("%d lines, want 800", n)
	}
}
