package deploytest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
	"essworker/internal/redistest"
	"essworker/internal/worker"
	"essworker/internal/workertest"
	"essworker/tasks"
)

// liveWorker is a worker running in the test process against a real Redis
// (redistest) and the ESS emulator, after it finished sampleJobs.
type liveWorker struct {
	// addr is the HOST:PORT of /metrics, /healthz and /readyz.
	addr string
	// metrics is one scrape of /metrics taken after the jobs ended.
	metrics string
}

// sampleJobs end with two detached, one not_attached and one failed (archived)
// job; each on its own group, so none waits for another's group lease.
var sampleJobs = []tasks.DetachPayload{
	{ScalingGroupId: "asg-deploy-1", LoadBalancerIds: []string{"lb-1"}},
	{ScalingGroupId: "asg-deploy-2", LoadBalancerIds: []string{"lb-3"}, Async: true},
	{ScalingGroupId: "asg-deploy-3", LoadBalancerIds: []string{"lb-gone"}},
	{ScalingGroupId: "asg-missing", LoadBalancerIds: []string{"lb-1"}},
}

// startLiveWorker starts a worker as internal/worker's tests do, runs
// sampleJobs to their end and scrapes the worker once. Everything stops in
// t.Cleanup.
func startLiveWorker(t *testing.T) *liveWorker {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	emu := esstest.NewServer(esstest.Config{ActivityDuration: 300 * time.Millisecond})
	t.Cleanup(emu.Close)
	for _, g := range []esstest.ScalingGroup{
		{ScalingGroupId: "asg-deploy-1", LoadBalancerIds: []string{"lb-1", "lb-2"}},
		{ScalingGroupId: "asg-deploy-2", LoadBalancerIds: []string{"lb-3"}},
		{ScalingGroupId: "asg-deploy-3", LoadBalancerIds: []string{"lb-4"}},
	} {
		if err := emu.AddScalingGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	logs := &logcapture.Buffer{}
	cfg := worker.Config{
		RedisURL: rs.URL(0), ESSEndpoint: emu.URL, Region: esstest.DefaultRegionID, MetricsAddr: "127.0.0.1:0",
		PollInterval: 200 * time.Millisecond, DelayedCheck: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
		LogLevel: "info", LogFormat: "json",
	}
	w := workertest.Run(t, cfg, emu.Credentials(), logs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", logs.String())
		}
	})
	lw := &liveWorker{addr: w.MetricsAddr()}

	opt := asynq.RedisClientOpt{Addr: rs.Addr}
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { client.Close(); insp.Close() })
	jobCtx, jobCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer jobCancel()
	var enqueued []tasks.EnqueueResult
	for _, p := range sampleJobs {
		res, err := tasks.Enqueue(jobCtx, client, p)
		if err != nil {
			t.Fatal(err)
		}
		enqueued = append(enqueued, res...)
	}
	for _, r := range enqueued {
		if _, err := tasks.WaitResult(jobCtx, insp, r.Queue, r.TaskID, 50*time.Millisecond); err != nil {
			t.Fatalf("job %s: %v", r.TaskID, err)
		}
	}
	code, body, err := workertest.Get("http://" + lw.addr + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, %v", code, err)
	}
	lw.metrics = body
	return lw
}

// exposedNames lists the sample names of a scrape: each family's name, and
// for histograms and summaries the _bucket/_sum/_count series PromQL sees.
// The value is the family's name.
func exposedNames(t testing.TB, body string) map[string]string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	names := map[string]string{}
	for name, f := range families {
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[name+suffix] = name
			}
		case dto.MetricType_SUMMARY:
			names[name] = name
			names[name+"_sum"] = name
			names[name+"_count"] = name
		default:
			names[name] = name
		}
	}
	return names
}
