package main

import (
	"context"
	"io"
	"net/http"
	"testing"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/tasks"
)

// Benchmarks behind P4, for profiling the pipeline (see docs/PERFORMANCE.md):
//
//	go test -run '^$' -bench SyncPipeline -benchtime 2000x -cpuprofile cpu.out ./cmd/bench
//	go tool pprof -top cmd/bench.test cpu.out (the test binary, written to the current directory)
//
// Each reports jobs/s; SyncPipeline over ESSCallOnly is P4's figure (the
// ceiling the SDK call and the emulator leave), and BareAsynq the reference.

func benchEnvFor(b *testing.B) *benchEnv {
	b.Helper()
	srv := redistest.Start(b, redistest.Options{})
	r, err := openRedis(context.Background(), srv.URL(0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.close)
	return &benchEnv{sizes: quickSizes, redis: r, runID: "b", tmp: b.TempDir(), stderr: io.Discard}
}

// BenchmarkSyncPipeline runs b.N sync jobs through an in-process worker and
// the emulator; only the worker's run is timed, not the enqueueing.
func BenchmarkSyncPipeline(b *testing.B) { benchAgainstEmulator(b, "pipe", measurePipeline) }

// BenchmarkESSCallOnly runs b.N sync jobs through an asynq handler that makes
// only their ESS call, against the emulator: the pipeline's ceiling.
func BenchmarkESSCallOnly(b *testing.B) { benchAgainstEmulator(b, "call", measureESSCall) }

// BenchmarkBareAsynq runs b.N of the same tasks through an asynq no-op handler.
func BenchmarkBareAsynq(b *testing.B) {
	env := benchEnvFor(b)
	b.StopTimer()
	fig, err := measureBare(context.Background(), env, "bare", b.N, timerOf(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(fig.perSecond(), "jobs/s")
}

// benchAgainstEmulator reports the jobs/s of measure running b.N sync jobs
// against a fresh emulator.
func benchAgainstEmulator(b *testing.B, name string, measure func(context.Context, *benchEnv, *emulator, string, int, timer) (runFigures, error)) {
	env := benchEnvFor(b)
	emu := startEmulator(esstest.Config{})
	b.Cleanup(emu.Close)
	b.StopTimer()
	fig, err := measure(context.Background(), env, emu, name, b.N, timerOf(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(fig.perSecond(), "jobs/s")
}

func timerOf(b *testing.B) timer {
	return func(on bool) {
		if on {
			b.StartTimer()
		} else {
			b.StopTimer()
		}
	}
}

// BenchmarkAPISubmissions makes b.N submissions through the producer API from
// 16 clients, as P6 does: for profiling the API's side of P6.
func BenchmarkAPISubmissions(b *testing.B) {
	env := benchEnvFor(b)
	ctx := context.Background()
	srv, stop, err := startAPI(ctx, env)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: apiClients}}
	defer client.CloseIdleConnections()
	b.ResetTimer()
	f, err := measureSubmissions(ctx, env, "api-bench", b.N, func(ctx context.Context, queue string, p tasks.DetachPayload) error {
		return submit(ctx, client, srv.URL(), queue, p)
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(f.perSecond(), "submissions/s")
}
