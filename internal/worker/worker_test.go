package worker_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/internal/worker"
	"essworker/internal/workertest"
	"essworker/tasks"
)

type running struct {
	w    *worker.Worker
	emu  *esstest.Server
	rs   *redistest.Server
	logs *logcapture.Buffer
	base string // http://addr
}

func startWorker(t *testing.T, rs *redistest.Server) *running {
	t.Helper()
	emu := esstest.NewServer(esstest.Config{ActivityDuration: 300 * time.Millisecond})
	t.Cleanup(emu.Close)
	logs := &logcapture.Buffer{}
	cfg := worker.Config{
		RedisURL: rs.URL(0), ESSEndpoint: emu.URL, Region: esstest.DefaultRegionID, MetricsAddr: "127.0.0.1:0",
		PollInterval: 200 * time.Millisecond, DelayedCheck: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
		LogLevel: "debug",
	}
	w := workertest.Run(t, cfg, emu.Credentials(), logs)
	return &running{w: w, emu: emu, rs: rs, logs: logs, base: "http://" + w.MetricsAddr()}
}

func (r *running) waitStatus(t *testing.T, path string, want int, within time.Duration) {
	t.Helper()
	sharedtest.WaitFor(t, fmt.Sprintf("%s answers %d", path, want), within, func() (bool, string) {
		code, _, err := workertest.Get(r.base + path)
		return err == nil && code == want, fmt.Sprintf("status %d (%v)", code, err)
	})
}

// metric returns the value of the sample of name whose labels include all of want.
func metric(t *testing.T, body, name string, want map[string]string) float64 {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	f, ok := families[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no sample of %s with labels %v", name, want)
	return 0
}

func TestMetricsFollowJobs(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	r := startWorker(t, rs)
	for _, g := range []esstest.ScalingGroup{
		{ScalingGroupId: "asg-m1", LoadBalancerIds: []string{"lb-1", "lb-2"}},
		{ScalingGroupId: "asg-m2", LoadBalancerIds: []string{"lb-3"}},
	} {
		if err := r.emu.AddScalingGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	opt := asynq.RedisClientOpt{Addr: rs.Addr}
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { client.Close(); insp.Close() })
	var enq []tasks.EnqueueResult
	for _, p := range []tasks.DetachPayload{
		{ScalingGroupId: "asg-m1", LoadBalancerIds: []string{"lb-1"}},
		{ScalingGroupId: "asg-m2", LoadBalancerIds: []string{"lb-3"}, Async: true},
		{ScalingGroupId: "asg-m1", LoadBalancerIds: []string{"lb-gone"}},
		{ScalingGroupId: "asg-none", LoadBalancerIds: []string{"lb-1"}},
	} {
		res, err := tasks.Enqueue(context.Background(), client, p)
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, res...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range enq {
		if _, err := tasks.WaitResult(ctx, insp, e.Queue, e.TaskID, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	_, body, err := workertest.Get(r.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	typ := tasks.TypeDetachLoadBalancers
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"essworker_jobs_total", map[string]string{"type": typ, "outcome": "detached"}, 2},
		{"essworker_jobs_total", map[string]string{"type": typ, "outcome": "not_attached"}, 1},
		{"essworker_jobs_total", map[string]string{"type": typ, "outcome": "failed"}, 1},
		{"essworker_jobs_total", map[string]string{"type": typ, "outcome": "invalid"}, 0},
		{"essworker_job_duration_seconds", map[string]string{"type": typ}, 4},
		{"essworker_ess_requests_total", map[string]string{"action": "DetachLoadBalancers", "code": "OK"}, 2},
		{"essworker_ess_requests_total", map[string]string{"action": "DetachLoadBalancers", "code": "InvalidLoadBalancerId.NotFound"}, 1},
		{"essworker_ess_requests_total", map[string]string{"action": "DetachLoadBalancers", "code": "InvalidScalingGroupId.NotFound"}, 1},
		{"essworker_scaling_activities_total", map[string]string{"status": "Successful"}, 1},
		{"essworker_scaling_activity_duration_seconds", nil, 1},
		{"essworker_activities_in_flight", nil, 0},
		{"essworker_queue_tasks", map[string]string{"queue": "default", "state": "completed"}, 3},
		{"essworker_queue_tasks", map[string]string{"queue": "default", "state": "archived"}, 1},
		{"essworker_queue_tasks", map[string]string{"queue": "default", "state": "pending"}, 0},
	}
	for _, c := range checks {
		if got := metric(t, body, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := metric(t, body, "essworker_ess_requests_total", map[string]string{"action": "DescribeScalingActivities", "code": "OK"}); got < 1 {
		t.Errorf("no DescribeScalingActivities call counted")
	}
	if got := metric(t, body, "essworker_rate_limit_wait_seconds", nil); got < 5 {
		t.Errorf("rate-limit waits observed %v times, want one per ESS call", got)
	}
	if _, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command("promtool", "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool not installed; metric lint skipped (CI installs it)")
	}
}

func TestReadyzFollowsRedis(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{AppendOnly: true})
	rs.RequireReal(t)
	r := startWorker(t, rs)
	if code, _, _ := workertest.Get(r.base + "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d", code)
	}
	rs.Stop(t)
	r.waitStatus(t, "/readyz", http.StatusServiceUnavailable, 5*time.Second)
	if code, _, _ := workertest.Get(r.base + "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d while Redis is down; the process is alive", code)
	}
	rs.Restart(t)
	r.waitStatus(t, "/readyz", http.StatusOK, 10*time.Second)
}
