package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"essworker/essclient/esstest"
	"essworker/internal/sharedtest"
)

// Bounds of the worker processes' life.
const (
	buildTimeout     = 5 * time.Minute
	readyTimeout     = 30 * time.Second
	processStopGrace = 15 * time.Second
)

// workerBinary builds essworker/cmd/worker into the run's temporary directory
// on first use, unless --worker-bin named one.
func (e *benchEnv) workerBinary(ctx context.Context) (string, error) {
	if e.workerBin != "" {
		return e.workerBin, nil
	}
	e.progress("building essworker/cmd/worker")
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	paths, err := sharedtest.BuildBinaries(ctx, e.tmp, nil, "essworker/cmd/worker")
	if err != nil {
		return "", fmt.Errorf("run the bench inside the module, or give --worker-bin: %w", err)
	}
	e.workerBin = paths[0]
	return paths[0], nil
}

// workerProcess is a running `worker` program.
type workerProcess struct {
	cmd     *exec.Cmd
	logPath string
	addr    string // metrics address
	exited  chan struct{}
	err     error // Wait's error, once exited is closed
}

// startWorkerProcess runs the worker binary against Redis and the emulator
// at essURL with extra flags, logging to a file in the run's directory, and
// waits for /readyz.
func (e *benchEnv) startWorkerProcess(ctx context.Context, name, essURL string, flags ...string) (*workerProcess, error) {
	bin, err := e.workerBinary(ctx)
	if err != nil {
		return nil, err
	}
	addr, err := sharedtest.FreeAddr()
	if err != nil {
		return nil, err
	}
	p := &workerProcess{logPath: filepath.Join(e.tmp, name+".log"), addr: addr, exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, fmt.Errorf("worker log: %w", err)
	}
	defer logFile.Close()
	args := append([]string{"--redis-url", e.redis.url, "--ess-endpoint", essURL, "--region", esstest.DefaultRegionID,
		"--metrics-addr", p.addr, "--log-level", "warn", "--log-format", "json"}, flags...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+esstest.DefaultAccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET="+esstest.DefaultAccessKeySecret)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	client := &http.Client{Timeout: time.Second}
	err = sharedtest.Wait(ctx, "/readyz 200", readyTimeout, func() (bool, string) {
		select {
		case <-p.exited:
			return true, "exited" // the wait is over; the exit is reported below
		default:
		}
		resp, err := client.Get("http://" + p.addr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	select {
	case <-p.exited:
		err = fmt.Errorf("exited: %v; log:\n%s", p.err, p.logTail())
	default:
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("worker %s not ready: %w", name, err)
	}
	return p, nil
}

// stop sends SIGTERM and waits for the exit, killing the process after
// processStopGrace. It returns an error unless the worker exited cleanly.
func (p *workerProcess) stop() error {
	select {
	case <-p.exited:
		return p.exitError()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(processStopGrace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	return p.exitError()
}

func (p *workerProcess) exitError() error {
	if p.err != nil {
		return fmt.Errorf("worker pid %d: %w; log:\n%s", p.cmd.Process.Pid, p.err, p.logTail())
	}
	return nil
}

// logTail is the end of the process's log, for an error message.
func (p *workerProcess) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const tail = 2000
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	return string(b)
}

// warnLines counts the lines of the process's log (warnings and errors only,
// by --log-level warn).
func (p *workerProcess) warnLines() int {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// statusField reads a field of /proc/PID/status in bytes (VmRSS, VmHWM).
func statusField(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read /proc/%d/status: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s %q: %w", pid, field, v, err)
		}
		return kb << 10, nil
	}
	return 0, errors.New("/proc/" + strconv.Itoa(pid) + "/status has no " + field)
}
