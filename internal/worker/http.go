package worker

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds the Redis check of one /readyz request.
const readyTimeout = time.Second

func (w *Worker) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		_, _ = rw.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", w.ready)
	return mux
}

// ready answers 200 when the asynq server runs and Redis answers, 503 otherwise,
// so a load balancer or Kubernetes stops counting on a worker cut off from Redis.
func (w *Worker) ready(rw http.ResponseWriter, r *http.Request) {
	if !w.running.Load() {
		http.Error(rw, "not running", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := w.rdb.Ping(ctx).Err(); err != nil {
		http.Error(rw, "redis unreachable", http.StatusServiceUnavailable)
		return
	}
	_, _ = rw.Write([]byte("ok\n"))
}
