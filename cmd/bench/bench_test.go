package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"essworker/internal/redistest"
)

// TestQuickRun runs the bench in process with --quick on a subset and checks
// the table: a row for every goal, the selected ones measured, the others
// skipped, none in error. It asserts no performance figure: timing verdicts
// depend on the machine.
func TestQuickRun(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	srv.RequireReal(t) // P4 reads INFO stats, which miniredis does not serve
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	code := run(ctx, []string{"--quick", "--only", "P1,P4", "--redis-url", srv.URL(0)}, &stdout, &stderr)
	out := stdout.String()
	t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr.String())
	if code != exitPass && code != exitFail {
		t.Fatalf("exit code %d, want %d or %d", code, exitPass, exitFail)
	}
	for _, want := range []string{"quick run", "nproc", "GOMAXPROCS", "go1.", "GOAL", "VERDICT"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	verdicts := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || len(fields[0]) != 2 || fields[0][0] != 'P' {
			continue
		}
		verdicts[fields[0]] = append(verdicts[fields[0]], fields[len(fields)-1])
	}
	for _, goal := range goalNames {
		vs := verdicts[goal]
		if len(vs) == 0 {
			t.Errorf("no row for %s", goal)
		}
		judged := 0
		for _, v := range vs {
			switch {
			case v == verdictError:
				t.Errorf("%s: a row in error", goal)
			case goal == "P3" || goal == "P5" || goal == "P6" || goal == "P7":
				if v != verdictSkip {
					t.Errorf("%s: verdict %s, want %s (not selected)", goal, v, verdictSkip)
				}
			case v == verdictPass || v == verdictFail:
				judged++
			case v != verdictInfo:
				t.Errorf("%s: verdict %s, want a measured %s, %s or %s", goal, v, verdictPass, verdictFail, verdictInfo)
			}
		}
		if (goal == "P1" || goal == "P4") && judged == 0 {
			t.Errorf("%s: no row judged against its target", goal)
		}
	}
	for _, ref := range []string{"handler making only the ESS call", "that call with a plain lease and result"} {
		if !strings.Contains(out, ref) {
			t.Errorf("P4 lacks the reference %q", ref)
		}
	}
}

// TestOwnRedis: without --redis-url the bench starts a redis-server of its
// own, and its cleanup stops it.
func TestOwnRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv(redistest.RequireEnv) != "1" {
		t.Skip("the bench's own Redis needs redis-server on the PATH")
	}
	env, cleanup, err := newBenchEnv(context.Background(), options{}, io.Discard)
	if err != nil {
		cleanup()
		t.Fatal(err)
	}
	addr, ok := strings.CutPrefix(env.redisNote, "Redis: a redis-server the bench started on ")
	addr, _, _ = strings.Cut(addr, " ")
	if !ok || env.redisVersion == "unknown" {
		cleanup()
		t.Fatalf("note %q, version %q: want the bench's own redis-server and its version", env.redisNote, env.redisVersion)
	}
	cleanup()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after cleanup", addr)
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		only    []string
		quick   bool
		wantErr string
	}{
		{name: "defaults", args: nil},
		{name: "subset", args: []string{"--only", "p1, P3", "--quick"}, only: []string{"P1", "P3"}, quick: true},
		{name: "unknown goal", args: []string{"--only", "P9"}, wantErr: `"P9" is not one of`},
		{name: "stray argument", args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			o, err := parseFlags(tt.args, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(o.only, ",") != strings.Join(tt.only, ",") || o.quick != tt.quick {
				t.Errorf("got only=%v quick=%v, want only=%v quick=%v", o.only, o.quick, tt.only, tt.quick)
			}
			for _, g := range goalNames {
				want := len(tt.only) == 0 || strings.Contains(strings.Join(tt.only, ","), g)
				if o.selected(g) != want {
					t.Errorf("selected(%s) = %v, want %v", g, o.selected(g), want)
				}
			}
		})
	}
}

func TestRunBadFlagsExitsUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--only", "P0"}, &stdout, &stderr); code != exitUsage {
		t.Fatalf("exit code %d, want %d; stderr %s", code, exitUsage, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{50, 5}, {99, 10}, {100, 10}, {10, 1}, {1, 1}, {90, 9},
	}
	for _, tt := range tests {
		if got := percentile(ds, tt.p); got != tt.want {
			t.Errorf("percentile(p%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
	if ds[0] != 5 {
		t.Error("percentile sorted its input")
	}
}

func TestSustainedRate(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	samples := []rateSampleAt{{t0, 0}, {t0.Add(time.Second), 10}, {t0.Add(5 * time.Second), 50}, {t0.Add(9 * time.Second), 90}, {t0.Add(10 * time.Second), 100}}
	rate, window, err := sustainedRate(samples, 100)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 10 || window != 8*time.Second {
		t.Errorf("rate %v over %v, want 10 over 8s", rate, window)
	}
	if _, _, err := sustainedRate(samples[:2], 100); err == nil {
		t.Error("no error with too few samples")
	}
}

func TestRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		r       row
		ratio   string
		verdict string
	}{
		{"at most, within", atMost("P1", "f", 1.2, 1.5, plain), "0.80", verdictPass},
		{"at most, on the limit", atMost("P1", "f", 1.5, 1.5, plain), "1.00", verdictPass},
		{"at most, beyond", atMost("P2", "f", 2.4, 1, seconds), "2.40", verdictFail},
		{"at least, above", atLeast("P3", "f", 19.6, 20, 0.95, perSecond, "b"), "0.98", verdictPass},
		{"at least, below", atLeast("P4", "f", 1400, 5400, 0.5, perSecond, "b"), "0.26", verdictFail},
		{"no baseline", atLeast("P4", "f", 1, 0, 0.5, perSecond, "b"), "—", verdictError},
	}
	for _, tt := range tests {
		if tt.r.ratio != tt.ratio || tt.r.verdict != tt.verdict {
			t.Errorf("%s: ratio %s verdict %s, want %s %s", tt.name, tt.r.ratio, tt.r.verdict, tt.ratio, tt.verdict)
		}
	}
}

func TestReportWrite(t *testing.T) {
	t.Parallel()
	rep := report{
		mode:    "quick",
		machine: machine{date: "2026-01-01T00:00:00Z", goVersion: "go1.26", cpu: "cpu", redis: "7.0", nproc: 2, gomaxprocs: 2},
		rows:    []row{atMost("P1", "calls per job", 1, 1.5, plain), {goal: "P5", figure: "x", verdict: verdictInfo}},
		notes:   []string{"a note"},
	}
	var buf bytes.Buffer
	if err := rep.write(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"quick run, 2026-01-01T00:00:00Z", "nproc 2, GOMAXPROCS 2", "calls per job", "PASS", "INFO", "- a note"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
	if rep.failed() {
		t.Error("failed() with PASS and INFO rows")
	}
	rep.rows = append(rep.rows, row{verdict: verdictError})
	if !rep.failed() {
		t.Error("not failed() with an ERROR row")
	}
}

// TestLogRecorder checks that the recorder reads a job's attributes from the
// logger's With chain and the record alike, as the handler logs them.
func TestLogRecorder(t *testing.T) {
	t.Parallel()
	rec := newLogRecorder()
	log := slog.New(rec).With("task_id", "detach:1").With("activity_id", "asa-1")
	log.Info("scaling activity started")
	log.Warn("ess call failed", "err", "boom")
	log.Info(jobDoneMessage, "outcome", "detached")
	if _, err := rec.waitDone(context.Background(), 1, time.Second); err != nil {
		t.Fatal(err)
	}
	d, ok := rec.doneJobs()["detach:1"]
	if !ok || d.activityID != "asa-1" || d.outcome != "detached" || d.at.IsZero() {
		t.Errorf("done job = %+v, %v", d, ok)
	}
	if got := rec.warningSummary(); got != `"ess call failed" ×1` {
		t.Errorf("warnings %q", got)
	}
	if _, err := rec.waitDone(context.Background(), 2, 10*time.Millisecond); err == nil {
		t.Error("waitDone(2) returned with one job done")
	}
}

// TestQuickRunAPI runs P6 alone with --quick: a row judged against its
// target, beside tasks.Enqueue, and the no-op HTTP reference rows. It asserts
// no performance figure.
func TestQuickRunAPI(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	srv.RequireReal(t) // the row's notes read INFO stats, which miniredis does not serve
	out, rows := quickRun(t, srv, "P6", 55*time.Second)
	if len(rows) != 3 || !strings.Contains(rows[0], "submissions/s through the producer API") ||
		!strings.Contains(rows[0], "(tasks.Enqueue direct)") || !strings.Contains(rows[0], "≥ 0.50") ||
		!(strings.HasSuffix(rows[0], verdictPass) || strings.HasSuffix(rows[0], verdictFail)) {
		t.Fatalf("P6 rows %q, want a judged row against tasks.Enqueue first", rows)
	}
	for _, r := range rows[1:] {
		if !strings.Contains(r, "no-op HTTP") || !strings.HasSuffix(r, verdictInfo) {
			t.Errorf("P6 row %q, want an INFO row of the no-op HTTP reference", r)
		}
	}
	if !strings.Contains(out, "300 submissions of one job each per measurement, 16 concurrent clients") {
		t.Error("no P6 note on the load")
	}
	cpu := regexp.MustCompile(`CPU time per submission, .*: API (\d+) \+ (\d+) µs, tasks\.Enqueue (\d+) \+ (\d+) µs, no-op HTTP (\d+) \+ \d+ µs`).FindStringSubmatch(out)
	if cpu == nil {
		t.Fatal("no P6 note on the CPU time per submission")
	}
	for i, side := range []string{"API in the process", "API in Redis", "tasks.Enqueue in the process", "tasks.Enqueue in Redis", "no-op HTTP in the process"} {
		if cpu[i+1] == "0" {
			t.Errorf("P6 CPU note %q: %s is 0 µs", cpu[0], side)
		}
	}
}

// TestQuickRunSharedCalls runs P7 alone with --quick: three rows judged
// against their limits, then the two rows against one call per job. It
// asserts no performance figure.
func TestQuickRunSharedCalls(t *testing.T) {
	out, rows := quickRun(t, redistest.Start(t, redistest.Options{}), "P7", 90*time.Second)
	if len(rows) != 5 {
		t.Fatalf("P7 rows %q, want 5", rows)
	}
	for i, r := range rows {
		judged := strings.HasSuffix(r, verdictPass) || strings.HasSuffix(r, verdictFail)
		if i < 3 && (!judged || !strings.Contains(r, "(limit)")) {
			t.Errorf("P7 row %q, want a row judged against its limit", r)
		}
		if i >= 3 && (!strings.HasSuffix(r, verdictInfo) || !strings.Contains(r, "(one call per job)")) {
			t.Errorf("P7 row %q, want an INFO row against one call per job", r)
		}
	}
	if !strings.Contains(out, "6 async jobs of one load balancer each on one group") {
		t.Error("no P7 note on the load")
	}
}

// quickRun runs goal alone with --quick on srv within timeout, checks the
// exit status, and returns the output and the goal's rows.
func quickRun(t *testing.T, srv *redistest.Server, goal string, timeout time.Duration) (out string, rows []string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	code := run(ctx, []string{"--quick", "--only", goal, "--redis-url", srv.URL(0)}, &stdout, &stderr)
	out = stdout.String()
	t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr.String())
	if code != exitPass && code != exitFail {
		t.Fatalf("exit code %d, want %d or %d", code, exitPass, exitFail)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, goal+" ") {
			rows = append(rows, line)
		}
	}
	return out, rows
}
