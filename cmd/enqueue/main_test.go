package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// binary is the enqueue command, built once for the package by TestMain.
var binary string

// buildFlags are the go build flags of binary (race_test.go adds -race).
var buildFlags []string

// runTimeout bounds one run of the command in a test.
const runTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "enqueue-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "enqueue tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	paths, err := sharedtest.BuildBinaries(context.Background(), dir, buildFlags, "essworker/cmd/enqueue")
	if err != nil {
		fmt.Fprintln(os.Stderr, "enqueue tests:", err)
		return 1
	}
	binary = paths[0]
	return m.Run()
}

// result is one finished run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// lines returns the JSON lines of standard output.
func (r result) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("stdout line %q is not a JSON object: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// runCmd runs the command with args and stdin, with REDIS_URL set to redisURL
// (unset when empty) and nothing else of the test's environment that enqueue
// reads.
func runCmd(t *testing.T, redisURL, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if redisURL != "" {
		cmd.Env = append(cmd.Env, "REDIS_URL="+redisURL)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("run enqueue %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("enqueue %q did not end within %v; stderr:\n%s", args, runTimeout, r.stderr)
	}
	return r
}

// wantCode fails t unless the run exited with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// inspector returns an asynq Inspector on s, closed in t.Cleanup.
func inspector(t *testing.T, s *redistest.Server) *asynq.Inspector {
	t.Helper()
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: s.Addr})
	t.Cleanup(func() { _ = insp.Close() })
	return insp
}

// pending returns the payloads of the pending jobs of queue, by task ID.
func pending(t *testing.T, insp *asynq.Inspector, queue string) map[string]tasks.DetachPayload {
	t.Helper()
	infos, err := insp.ListPendingTasks(queue, asynq.PageSize(1000))
	if err != nil {
		t.Fatalf("list pending tasks of %s: %v", queue, err)
	}
	out := map[string]tasks.DetachPayload{}
	for _, info := range infos {
		if info.Type != tasks.TypeDetachLoadBalancers {
			t.Fatalf("task %s has type %q", info.ID, info.Type)
		}
		p, err := tasks.DecodeDetachPayload(info.Payload)
		if err != nil {
			t.Fatalf("task %s: %v", info.ID, err)
		}
		out[info.ID] = p
	}
	return out
}

// wantNoQueues fails t if anything was ever queued on the server.
func wantNoQueues(t *testing.T, insp *asynq.Inspector) {
	t.Helper()
	queues, err := insp.Queues()
	if err != nil {
		t.Fatalf("list queues: %v", err)
	}
	if len(queues) > 0 {
		t.Fatalf("queues %v exist; want nothing queued", queues)
	}
}

// writeFile writes content to a new file in t's temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
