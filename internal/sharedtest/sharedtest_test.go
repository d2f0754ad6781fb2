package sharedtest_test

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"essworker/internal/sharedtest"
)

func TestWaitForReturnsOnceCondHolds(t *testing.T) {
	t.Parallel()
	calls := 0
	sharedtest.WaitFor(t, "the third look", 5*time.Second, func() (bool, string) {
		calls++
		return calls == 3, strconv.Itoa(calls)
	})
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
}

func TestWaitNamesWhatAndLastState(t *testing.T) {
	t.Parallel()
	calls := 0
	err := sharedtest.Wait(context.Background(), "the impossible", 50*time.Millisecond, func() (bool, string) {
		calls++
		return false, "look " + strconv.Itoa(calls)
	})
	want := "the impossible: not within 50ms (last seen: look " + strconv.Itoa(calls) + ")"
	if err == nil || err.Error() != want {
		t.Fatalf("Wait = %v, want %q", err, want)
	}
	// Pauses of 5, 10, 20, 40 ms: at most 5 looks fit in 50 ms, at least 2.
	if calls < 2 || calls > 5 {
		t.Fatalf("cond called %d times in 50ms, want 2 to 5", calls)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	err := sharedtest.Wait(ctx, "a cancelled wait", time.Minute, func() (bool, string) {
		cancel()
		return false, "cancelled"
	})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "a cancelled wait") || !strings.Contains(err.Error(), "cancelled)") {
		t.Fatalf("Wait = %v, want context.Canceled naming the wait and its last state", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Wait took %v after its context ended", took)
	}
}

func TestFreeAddrIsListenableLoopback(t *testing.T) {
	t.Parallel()
	addr, err := sharedtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("FreeAddr = %q (%v), want 127.0.0.1 and a port", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	_ = l.Close()
}

// TestBuildBinariesPassesFlags builds testdata/echo with -ldflags setting the
// word it prints, and runs it.
func TestBuildBinariesPassesFlags(t *testing.T) {
	t.Parallel()
	paths, err := sharedtest.BuildBinaries(context.Background(), t.TempDir(),
		[]string{"-ldflags=-X main.word=built"}, "essworker/internal/sharedtest/testdata/echo")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || !strings.HasSuffix(paths[0], "/echo") {
		t.Fatalf("paths %v, want one ending in /echo", paths)
	}
	out, err := exec.Command(paths[0]).Output()
	if err != nil || string(out) != "built\n" {
		t.Fatalf("echo printed %q (%v), want %q", out, err, "built\n")
	}
}

func TestBuildBinariesReportsGoBuildOutput(t *testing.T) {
	t.Parallel()
	_, err := sharedtest.BuildBinaries(context.Background(), t.TempDir(), nil, "essworker/internal/sharedtest/testdata/absent")
	if err == nil || !strings.Contains(err.Error(), "go build [essworker/internal/sharedtest/testdata/absent]") ||
		!strings.Contains(err.Error(), "testdata/absent") {
		t.Fatalf("BuildBinaries of an absent package = %v, want go build's error naming it", err)
	}
	if _, err := sharedtest.BuildBinaries(context.Background(), t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "pkgs") {
		t.Fatalf("BuildBinaries of no package = %v, want an error naming pkgs", err)
	}
}
