package apiserver

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"essworker/api"
)

// readyTimeout bounds the Redis check of one /readyz.
const readyTimeout = time.Second

// routes is the server's handler.
func (s *Server) routes() http.Handler {
	m := s.metrics
	mux := http.NewServeMux()
	mux.Handle(routeSubmit, m.instrument(routeSubmit, s.authenticated(routeSubmit, s.submit)))
	mux.Handle(routeStatus, m.instrument(routeStatus, s.authenticated(routeStatus, s.status)))
	mux.Handle(routeSubmitDrain, m.instrument(routeSubmitDrain, s.authenticated(routeSubmitDrain, s.submitDrain)))
	mux.Handle(routeDrainStatus, m.instrument(routeDrainStatus, s.authenticated(routeDrainStatus, s.drainStatus)))
	mux.Handle(routeOpenAPI, m.instrument(routeOpenAPI, http.HandlerFunc(serveOpenAPI)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.Handle("/", m.instrument(routeOther, http.HandlerFunc(notFound)))
	return mux
}

// serveOpenAPI answers api/openapi.yaml byte for byte.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(api.OpenAPI)
}

// ready answers 200 when Redis answers, 503 otherwise.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// notFound answers what no route takes, in the API's error shape: 405 for a
// job route with another method, 404 otherwise.
func notFound(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/detach-jobs", r.URL.Path == "/v1/drain-jobs":
		w.Header().Set("Allow", http.MethodPost)
	case jobPath(r.URL.Path, "/v1/detach-jobs/"), jobPath(r.URL.Path, "/v1/drain-jobs/"):
		w.Header().Set("Allow", "GET, HEAD")
	default:
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: "no route " + r.URL.Path})
		return
	}
	writeError(w, http.StatusMethodNotAllowed, apiError{Code: codeMethodNotAllowed, Message: r.Method + " is not allowed on " + r.URL.Path})
}

// jobPath reports whether path is prefix followed by one path segment.
func jobPath(path, prefix string) bool {
	return strings.HasPrefix(path, prefix) && !strings.Contains(path[len(prefix):], "/")
}
