package worker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
	"essworker/internal/redisconn"
	"essworker/internal/redistest"
	"essworker/internal/worker"
	"essworker/internal/workertest"
	"essworker/tasks"
)

// failFast bounds how long worker.New may take to give up on a Redis that
// refuses it: well under the 5 s start-up check, so a refusal is not a timeout.
const failFast = 3 * time.Second

// detachOverRedis runs a worker on redisURL (trusting caFile) and shows that
// it takes a job from that Redis, detaches, and stores the result there.
func detachOverRedis(t *testing.T, redisURL, caFile string) {
	t.Helper()
	emu := esstest.NewServer(esstest.Config{})
	t.Cleanup(emu.Close)
	if err := emu.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: "asg-r", LoadBalancerIds: []string{"lb-1", "lb-2"}}); err != nil {
		t.Fatal(err)
	}
	cfg := worker.Config{
		RedisURL: redisURL, RedisTLSCAFile: caFile, ESSEndpoint: emu.URL, MetricsAddr: "127.0.0.1:0",
		DelayedCheck: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second, LogLevel: "debug",
	}
	workertest.Run(t, cfg, emu.Credentials(), &logcapture.Buffer{})

	// The producer side connects the way cmd/enqueue does.
	opt, rdb, err := redisconn.Open(redisURL, redisconn.Options{TLSCAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })
	res, err := tasks.Enqueue(context.Background(), asynq.NewClientFromRedisClient(rdb),
		tasks.DetachPayload{ScalingGroupId: "asg-r", LoadBalancerIds: []string{"lb-1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	info, err := tasks.WaitResult(ctx, insp, res[0].Queue, res[0].TaskID, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tasks.DecodeDetachResult(info.Result)
	if err != nil || info.State != asynq.TaskStateCompleted || out.Outcome != tasks.OutcomeDetached {
		t.Fatalf("job %s with result %+v (%v), want completed and detached", info.State, out, err)
	}
	if g, _ := emu.ScalingGroup("asg-r"); !slices.Equal(g.LoadBalancerIds, []string{"lb-2"}) {
		t.Errorf("group has %v, want lb-1 detached", g.LoadBalancerIds)
	}
}

// refusedBy starts a worker on redisURL and returns its error, which must be a
// fast ErrRedisUnreachable that names each of wantText and holds none of secrets.
func refusedBy(t *testing.T, redisURL, caFile string, wantText, secrets []string) {
	t.Helper()
	cfg := worker.Config{RedisURL: redisURL, RedisTLSCAFile: caFile, ESSEndpoint: "http://127.0.0.1:1", MetricsAddr: "127.0.0.1:0"}
	start := time.Now()
	w, err := worker.New(context.Background(), cfg, essclient.StaticCredentials("id", "secret", ""), worker.NewLogger(&logcapture.Buffer{}, "info", "json"))
	took := time.Since(start)
	if err == nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = w.Run(ctx) // releases what New took
		t.Fatal("worker.New succeeded; want Redis to refuse it")
	}
	if !errors.Is(err, redisconn.ErrUnreachable) {
		t.Errorf("err = %v, want ErrRedisUnreachable", err)
	}
	if took > failFast {
		t.Errorf("worker.New took %v to fail, want under %v", took, failFast)
	}
	for _, want := range wantText {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to name %q", err, want)
		}
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("err = %q holds the password %q", err, s)
		}
	}
}

func TestWorkerOverTLSRedisWithPassword(t *testing.T) {
	t.Parallel()
	const pw = "Tls-Redis-Pass-Do-Not-Leak"
	rs := redistest.Start(t, redistest.Options{TLS: true, Password: pw})
	if !strings.HasPrefix(rs.URL(0), "rediss://") {
		t.Fatalf("URL %s is not rediss://", rs.URL(0))
	}
	detachOverRedis(t, rs.URL(0), rs.CAFile)
}

func TestWorkerRefusesUntrustedTLSRedis(t *testing.T) {
	t.Parallel()
	const pw = "Tls-Redis-Pass-Do-Not-Leak"
	rs := redistest.Start(t, redistest.Options{TLS: true, Password: pw})
	tests := []struct {
		name   string
		caFile string
	}{
		{"system roots", ""},
		{"another CA", redistest.WriteUnrelatedCA(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refusedBy(t, rs.URL(0), tt.caFile, []string{"--redis-url", "--redis-tls-ca-file", "certificate"}, []string{pw})
		})
	}
}

func TestWorkerRedisPassword(t *testing.T) {
	t.Parallel()
	const pw = "Plain-Redis-Pass-Do-Not-Leak"
	rs := redistest.Start(t, redistest.Options{Password: pw})
	t.Run("right password", func(t *testing.T) {
		t.Parallel()
		detachOverRedis(t, rs.URL(0), "")
	})
	const wrong = "Wrong-Redis-Pass-Do-Not-Leak"
	tests := []struct {
		name string
		url  string
	}{
		{"wrong password", "redis://:" + wrong + "@" + rs.Addr + "/0"},
		{"no password", "redis://" + rs.Addr + "/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refusedBy(t, tt.url, "", []string{"--redis-url", "check the password"}, []string{pw, wrong})
		})
	}
}
