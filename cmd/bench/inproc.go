package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"essworker/essclient/esstest"
	"essworker/internal/worker"
)

// jobDoneMessage is the line the handler logs once a job completes, after its
// result is written and just before asynq marks the task completed.
const jobDoneMessage = "job done"

// doneJob is one "job done" line as the recorder saw it.
type doneJob struct {
	at         time.Time // the record's time: nanosecond precision, unlike asynq's CompletedAt
	activityID string
	outcome    string
}

// logRecorder is the in-process worker's slog handler. It keeps the time of
// every completed job (asynq stores CompletedAt in whole seconds, too coarse
// for P2) and counts warnings by message so the report can show them.
type logRecorder struct {
	attrs []slog.Attr
	sink  *logSink
}

type logSink struct {
	mu       sync.Mutex
	done     map[string]doneJob // by task ID
	warnings map[string]int     // by message
	notify   chan struct{}      // gets a tick, without blocking, on every completed job
}

func newLogRecorder() *logRecorder {
	return &logRecorder{sink: &logSink{done: map[string]doneJob{}, warnings: map[string]int{}, notify: make(chan struct{}, 1)}}
}

func (l *logRecorder) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (l *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{attrs: append(slices.Clip(l.attrs), attrs...), sink: l.sink}
}

// WithGroup keeps the handler as is: the worker's lines the bench reads use no groups.
func (l *logRecorder) WithGroup(string) slog.Handler { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		l.sink.mu.Lock()
		l.sink.warnings[r.Message]++
		l.sink.mu.Unlock()
		return nil
	}
	if r.Message != jobDoneMessage {
		return nil
	}
	attr := func(key string) string {
		v := ""
		for _, a := range l.attrs {
			if a.Key == key {
				v = a.Value.String()
			}
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v = a.Value.String()
			}
			return true
		})
		return v
	}
	d := doneJob{at: r.Time, activityID: attr("activity_id"), outcome: attr("outcome")}
	l.sink.mu.Lock()
	l.sink.done[attr("task_id")] = d
	l.sink.mu.Unlock()
	select {
	case l.sink.notify <- struct{}{}:
	default:
	}
	return nil
}

func (l *logRecorder) doneCount() int {
	l.sink.mu.Lock()
	defer l.sink.mu.Unlock()
	return len(l.sink.done)
}

func (l *logRecorder) doneJobs() map[string]doneJob {
	l.sink.mu.Lock()
	defer l.sink.mu.Unlock()
	return maps.Clone(l.sink.done)
}

// warningSummary is "msg ×n, ..." or "".
func (l *logRecorder) warningSummary() string {
	l.sink.mu.Lock()
	defer l.sink.mu.Unlock()
	var parts []string
	for _, m := range slices.Sorted(maps.Keys(l.sink.warnings)) {
		parts = append(parts, fmt.Sprintf("%q ×%d", m, l.sink.warnings[m]))
	}
	return strings.Join(parts, ", ")
}

// waitDone blocks until n jobs are done, ctx ends or timeout passes. It
// returns when the n-th was seen.
func (l *logRecorder) waitDone(ctx context.Context, n int, timeout time.Duration) (time.Time, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		if got := l.doneCount(); got >= n {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-t.C:
			return time.Time{}, fmt.Errorf("%d of %d jobs done within %v", l.doneCount(), n, timeout)
		case <-l.sink.notify:
		}
	}
}

// inprocWorker is worker.New/Run in this process, logging to a logRecorder.
type inprocWorker struct {
	log      *logRecorder
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	runErr   error
}

// startWorker runs a worker on cfg against emu. The caller's cfg sets Redis,
// queues, concurrency and polling; the rest is filled in here.
func startWorker(ctx context.Context, cfg worker.Config, emu *emulator) (*inprocWorker, error) {
	cfg.ESSEndpoint, cfg.Region = emu.URL, esstest.DefaultRegionID
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.LogLevel = "info"
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	rec := newLogRecorder()
	w, err := worker.New(ctx, cfg, emu.Credentials(), slog.New(rec))
	if err != nil {
		return nil, fmt.Errorf("worker.New: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	iw := &inprocWorker{log: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { iw.done <- w.Run(runCtx) }()
	return iw, nil
}

// stop shuts the worker down and returns Run's error. It may be called more
// than once.
func (w *inprocWorker) stop() error {
	w.stopOnce.Do(func() {
		w.cancel()
		w.runErr = <-w.done
	})
	return w.runErr
}
