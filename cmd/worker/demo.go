package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient/esstest"
	"essworker/internal/apiserver"
	"essworker/internal/embeddedredis"
	"essworker/internal/notify"
	"essworker/internal/worker"
	"essworker/tasks"
)

// Settings of the demo: short waits, so its activities end while a person watches.
const (
	demoPollInterval     = time.Second
	demoActivityDuration = 2 * time.Second
	demoSampleTimeout    = time.Minute
)

// demoGroups seed the emulator.
var demoGroups = []esstest.ScalingGroup{
	{ScalingGroupId: "asg-demo-1", LoadBalancerIds: []string{"lb-demo-1", "lb-demo-2"}},
	{ScalingGroupId: "asg-demo-2", LoadBalancerIds: []string{"lb-demo-3", "lb-demo-4", "lb-demo-5", "lb-demo-6", "lb-demo-7", "lb-demo-8", "lb-demo-9"}},
	{ScalingGroupId: "asg-demo-3", LoadBalancerIds: []string{"lb-demo-10", "lb-demo-11"}},
}

// demoJobs are enqueued at start: a synchronous detach, seven load balancers
// split into two asynchronous jobs, and one already detached.
var demoJobs = []tasks.DetachPayload{
	{ScalingGroupId: "asg-demo-1", LoadBalancerIds: []string{"lb-demo-1"}},
	{ScalingGroupId: "asg-demo-2", LoadBalancerIds: demoGroups[1].LoadBalancerIds, Async: true},
	{ScalingGroupId: "asg-demo-3", LoadBalancerIds: []string{"lb-not-attached"}},
}

// runDemo runs the whole product in one process: embedded Redis, the ESS
// emulator, the worker, the producer API, a receiver of the worker's signed
// notices (unless cfg names one) and sample jobs, until ctx ends.
func runDemo(ctx context.Context, cfg worker.Config, stdout, stderr io.Writer) error {
	stdout = &lineWriter{w: stdout}
	rds, err := embeddedredis.Start("127.0.0.1:0", "")
	if err != nil {
		return err
	}
	defer rds.Close()
	emu := esstest.NewServer(esstest.Config{ActivityDuration: demoActivityDuration})
	defer emu.Close()
	for _, g := range demoGroups {
		if err := emu.AddScalingGroup(g); err != nil {
			return fmt.Errorf("seed emulator: %w", err)
		}
	}
	redisURL := "redis://" + rds.Addr() + "/0"
	cfg.RedisURL, cfg.ESSEndpoint, cfg.Region = redisURL, emu.URL, esstest.DefaultRegionID
	cfg.RedisTLSCAFile = "" // the embedded Redis speaks plain redis://
	cfg.PollInterval, cfg.LogFormat = demoPollInterval, "text"
	if cfg.NotifyURL == "" {
		rcv, err := startDemoReceiver(stdout)
		if err != nil {
			return fmt.Errorf("notice receiver: %w", err)
		}
		defer rcv.Close()
		cfg.NotifyURL, cfg.NotifySecretFile = rcv.URL, rcv.SecretFile
	}
	notices, err := notify.ParseURL(cfg.NotifyURL)
	if err != nil {
		return fmt.Errorf("notify-url: %w", err)
	}
	log := worker.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	redis.SetLogger(worker.RedisLogger{L: log})
	w, err := worker.New(ctx, cfg, emu.Credentials(), log)
	if err != nil {
		return err
	}
	api, err := apiserver.New(ctx, apiserver.Config{
		Addr: "127.0.0.1:0", RedisURL: redisURL, InsecureNoAuth: true,
		LogLevel: cfg.LogLevel, LogFormat: cfg.LogFormat,
	}, log.With("component", "api"))
	if err != nil {
		return fmt.Errorf("producer API: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Run(ctx) }()

	fmt.Fprintf(stdout, "essworker demo: embedded Redis at %s, ESS emulator at %s, metrics at http://%s/metrics, producer API at %s (no auth), notices to %s\n",
		redisURL, emu.URL, w.MetricsAddr(), api.URL(), notify.Redact(notices))
	if err := runSampleJobs(ctx, redisURL, stdout); err != nil {
		fmt.Fprintln(stdout, "sample jobs:", err)
	}
	_, port, _ := net.SplitHostPort(w.MetricsAddr())
	fmt.Fprintf(stdout, `
Try next (in another terminal, while this runs):
  go run ./cmd/enqueue --redis-url %s --group asg-demo-1 --lb lb-demo-2 --async --wait
  curl -s -X POST %s/v1/detach-jobs -H 'Content-Type: application/json' \
    -d '{"ScalingGroupId":"asg-demo-3","LoadBalancerIds":["lb-demo-11"],"Async":true,"ClientToken":"demo-curl-1"}'
  curl -s '%s/v1/detach-jobs/demo-curl-1?wait=30s'
  curl -s localhost:%s/metrics | grep essworker_jobs_total
  curl -s %s/_emulator/stats
Ctrl-C stops the demo.
`, redisURL, api.URL(), api.URL(), port, emu.URL)
	return errors.Join(<-done, <-apiDone)
}

// runSampleJobs enqueues demoJobs and prints each one's final result.
func runSampleJobs(ctx context.Context, redisURL string, out io.Writer) error {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return err
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	var enqueued []tasks.EnqueueResult
	for _, p := range demoJobs {
		res, err := tasks.Enqueue(ctx, client, p)
		if err != nil {
			return err
		}
		enqueued = append(enqueued, res...)
	}
	fmt.Fprintf(out, "enqueued %d sample jobs; waiting for their results...\n", len(enqueued))
	ctx, cancel := context.WithTimeout(ctx, demoSampleTimeout)
	defer cancel()
	for _, e := range enqueued {
		info, err := tasks.WaitResult(ctx, insp, e.Queue, e.TaskID, 0)
		if err != nil {
			return err
		}
		res, _ := tasks.DecodeDetachResult(info.Result)
		line, _ := json.Marshal(map[string]any{
			"task_id": e.TaskID, "state": info.State.String(), "outcome": res.Outcome,
			"group": res.ScalingGroupId, "load_balancers": res.LoadBalancerIds,
			"activity": res.ScalingActivityId, "status": res.StatusCode,
		})
		fmt.Fprintf(out, "%s\n", line)
	}
	return nil
}
