package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"essworker/essclient/esstest"
	"essworker/internal/sharedtest"
)

// Timing of the harness.
const (
	startTimeout = 20 * time.Second // a process until it serves
	stopTimeout  = 10 * time.Second // a killed process until it is reaped
	httpTimeout  = 5 * time.Second  // one control or probe request
	logTailLines = 40               // lines of a log shown on failure
)

// Worker settings shared by every test: short waits so jobs move fast.
const (
	pollInterval = "300ms"
	essQPS       = "500"
	maxRetry     = "200"
)

var httpClient = &http.Client{Timeout: httpTimeout}

// proc is one program run as a child process, its stdout and stderr appended to
// a log file that outlives restarts. On failure the test shows the log's tail.
type proc struct {
	name    string
	path    string
	args    []string
	env     []string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	starts  int
}

// startProc runs path with args; the process is killed when the test ends.
func startProc(t *testing.T, name, path string, args, env []string) *proc {
	t.Helper()
	p := &proc{name: name, path: path, args: args, env: env, logPath: filepath.Join(t.TempDir(), name+".log")}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- last %d lines of %s (%s) ---\n%s", logTailLines, name, p.logPath, tail(p.logPath, logTailLines))
		}
		keepLog(t, p.logPath, name)
	})
	p.start(t)
	return p
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	p.starts++
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("%s: log file: %v", p.name, err)
	}
	fmt.Fprintf(logf, "=== start %d of %s at %s\n", p.starts, p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("%s: start: %v", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(done)
	}()
}

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if !p.running() {
		t.Fatalf("%s: not running, cannot kill it (exit: %v)", p.name, p.waitErr)
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	if _, ok := p.wait(stopTimeout); !ok {
		t.Fatalf("%s: still running %v after SIGKILL", p.name, stopTimeout)
	}
}

// wait waits up to within for the process to exit and returns its exit code.
func (p *proc) wait(within time.Duration) (code int, exited bool) {
	select {
	case <-p.done:
	case <-time.After(within):
		return 0, false
	}
	var ee *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0, true
	case errors.As(p.waitErr, &ee):
		return ee.ExitCode(), true
	default:
		return -1, true
	}
}

// stop kills the process if it runs; used by cleanups.
func (p *proc) stop() {
	if p.cmd != nil && p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_, _ = p.wait(stopTimeout)
	}
}

// EnvKeepLogs names a directory where every process log is copied when its
// test ends (one subdirectory per test), for a diagnosis after the run.
const EnvKeepLogs = "ESSWORKER_E2E_LOGS"

func keepLog(t *testing.T, path, name string) {
	dir := os.Getenv(EnvKeepLogs)
	if dir == "" {
		return
	}
	dst := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
	b, err := os.ReadFile(path)
	if err == nil {
		err = os.MkdirAll(dst, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dst, name+".log"), b, 0o644)
	}
	if err != nil {
		t.Logf("keep log of %s: %v", name, err)
	}
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// baseEnv is the environment of every child: enough to run, nothing that a
// developer's shell could add to the worker's configuration.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// emulator is a running ess-emulator.
type emulator struct {
	*proc
	url string
}

// emulatorConfig is what an emulator starts with.
type emulatorConfig struct {
	ActivityDuration time.Duration // --activity-duration; 0: the emulator's default
	Seed             int64         // --seed; 0: the emulator's default
	Groups           []esstest.ScalingGroup
}

func startEmulator(t *testing.T, cfg emulatorConfig) *emulator {
	t.Helper()
	state := esstest.State{
		AccessKeys:    map[string]string{esstest.DefaultAccessKeyID: esstest.DefaultAccessKeySecret},
		ScalingGroups: cfg.Groups,
	}
	b, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(statePath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	addr, err := sharedtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--addr", addr, "--state", statePath}
	if cfg.ActivityDuration > 0 {
		args = append(args, "--activity-duration", cfg.ActivityDuration.String())
	}
	if cfg.Seed != 0 {
		args = append(args, "--seed", strconv.FormatInt(cfg.Seed, 10))
	}
	e := &emulator{proc: startProc(t, "ess-emulator", binaries.emulator, args, baseEnv()), url: "http://" + addr}
	sharedtest.WaitFor(t, "ess-emulator serves", startTimeout, func() (bool, string) {
		if !e.running() {
			t.Fatalf("ess-emulator exited at start: %v\n%s", e.waitErr, tail(e.logPath, logTailLines))
		}
		code, _, err := httpGet(e.url + esstest.PathStats)
		return err == nil && code == http.StatusOK, fmt.Sprint(code, err)
	})
	return e
}

func (e *emulator) stats(t *testing.T) esstest.Stats {
	t.Helper()
	var s esstest.Stats
	e.getJSON(t, esstest.PathStats, &s)
	return s
}

// groups returns the load balancers attached to each group now.
func (e *emulator) groups(t *testing.T) map[string][]string {
	t.Helper()
	var gs []esstest.ScalingGroup
	e.getJSON(t, esstest.PathScalingGroups, &gs)
	out := make(map[string][]string, len(gs))
	for _, g := range gs {
		out[g.ScalingGroupId] = g.LoadBalancerIds
	}
	return out
}

// setFaults replaces the fault plan ({} clears it).
func (e *emulator) setFaults(t *testing.T, plan esstest.FaultPlan) {
	t.Helper()
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Post(e.url+esstest.PathFaults, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("set faults: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set faults: %s: %s", resp.Status, body)
	}
}

func (e *emulator) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, body, err := httpGet(e.url + path)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, code, err, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

func httpGet(url string) (int, []byte, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// workerProc is a running worker and where its HTTP endpoints are.
type workerProc struct {
	*proc
	base string // http://127.0.0.1:PORT
}

// startWorker runs a worker on redisURL against the emulator at essURL, with
// the harness's short waits; extra flags come last, so they win. It returns
// once /readyz answers 200.
func startWorker(t *testing.T, name, redisURL, essURL string, extra ...string) *workerProc {
	t.Helper()
	addr, err := sharedtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{
		"--redis-url", redisURL, "--ess-endpoint", essURL, "--metrics-addr", addr,
		"--poll-interval", pollInterval, "--ess-qps", essQPS, "--max-retry", maxRetry,
		"--log-format", "json", "--log-level", "info",
	}
	env := append(baseEnv(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+esstest.DefaultAccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET="+esstest.DefaultAccessKeySecret,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
	)
	w := &workerProc{proc: startProc(t, name, binaries.worker, append(args, extra...), env), base: "http://" + addr}
	w.waitReady(t)
	return w
}

// restart starts a stopped worker again with the same flags and port.
func (w *workerProc) restart(t *testing.T) {
	t.Helper()
	if w.running() {
		t.Fatalf("%s: restart while running", w.name)
	}
	w.start(t)
	w.waitReady(t)
}

func (w *workerProc) waitReady(t *testing.T) {
	t.Helper()
	sharedtest.WaitFor(t, w.name+" /readyz 200", startTimeout, func() (bool, string) {
		if !w.running() {
			t.Fatalf("%s exited at start: %v\n%s", w.name, w.waitErr, tail(w.logPath, logTailLines))
		}
		code := w.readyz()
		return code == http.StatusOK, strconv.Itoa(code)
	})
}

// readyz returns the status of GET /readyz, 0 when there is no answer.
func (w *workerProc) readyz() int {
	code, _, err := httpGet(w.base + "/readyz")
	if err != nil {
		return 0
	}
	return code
}

// runEnqueue runs the enqueue command with stdin and returns its standard
// output lines (decoded) and exit code.
func runEnqueue(t *testing.T, stdin string, args ...string) ([]map[string]any, int) {
	t.Helper()
	cmd := exec.Command(binaries.enqueue, args...)
	cmd.Env = baseEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("enqueue: %v", err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("enqueue printed a line that is not JSON: %q (stderr %q)", sc.Text(), stderr.String())
		}
		lines = append(lines, m)
	}
	if stderr.Len() > 0 {
		t.Logf("enqueue stderr: %s", stderr.String())
	}
	return lines, code
}
