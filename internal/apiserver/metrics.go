package apiserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Route labels of the metrics.
const (
	routeSubmit  = "POST /v1/detach-jobs"
	routeStatus  = "GET /v1/detach-jobs/{client_token}"
	routeOpenAPI = "GET /v1/openapi.yaml"
	routeOther   = "other"

	routeSubmitDrain = "POST /v1/drain-jobs"
	routeDrainStatus = "GET /v1/drain-jobs/{client_token}"
)

// apiMetrics are the API's metrics, on their own registry with the Go and
// process collectors.
type apiMetrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newMetrics() *apiMetrics {
	m := &apiMetrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "essworker", Name: "api_requests_total",
			Help: "Requests to the producer API, by route and HTTP status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "essworker", Name: "api_request_duration_seconds",
			Help:    "Time to answer a request to the producer API, by route (waits of GET ?wait= included).",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 15, 30, 60},
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "essworker", Name: "api_requests_in_flight",
			Help: "Requests to the job routes being answered, waits included.",
		}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.inflight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist from the start, so rates and the 5xx alert see them.
	for _, route := range []string{routeSubmit, routeStatus, routeSubmitDrain, routeDrainStatus} {
		for _, code := range []int{http.StatusOK, http.StatusServiceUnavailable} {
			m.requests.WithLabelValues(route, strconv.Itoa(code))
		}
		m.duration.WithLabelValues(route)
	}
	return m
}

// statusRecorder keeps the status code a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// instrument counts and times the requests h answers under route.
func (m *apiMetrics) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		m.inflight.Inc()
		defer m.inflight.Dec()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(began).Seconds())
	})
}
