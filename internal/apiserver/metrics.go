package apiserver

import (
	"net/http"
	"strconv"
	"sync"
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

// routeSeries holds the series of one route, looked up once rather than by
// WithLabelValues, which hashes the labels, on every request.
type routeSeries struct {
	duration func() prometheus.Observer // made at the route's first request
	requests *prometheus.CounterVec     // curried with the route
	byCode   sync.Map                   // HTTP status code (int) -> prometheus.Counter
}

// counter is the requests counter of code; its series exists from its first
// request on.
func (s *routeSeries) counter(code int) prometheus.Counter {
	if c, ok := s.byCode.Load(code); ok {
		return c.(prometheus.Counter)
	}
	c := s.requests.WithLabelValues(strconv.Itoa(code))
	s.byCode.Store(code, c)
	return c
}

// instrument counts and times the requests h answers under route.
func (m *apiMetrics) instrument(route string, h http.Handler) http.Handler {
	series := &routeSeries{
		duration: sync.OnceValue(func() prometheus.Observer { return m.duration.WithLabelValues(route) }),
		requests: m.requests.MustCurryWith(prometheus.Labels{"route": route}),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		m.inflight.Inc()
		defer m.inflight.Dec()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		series.counter(rec.code).Inc()
		series.duration().Observe(time.Since(began).Seconds())
	})
}
