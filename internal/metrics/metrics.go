package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"essworker/essclient"
	"essworker/internal/detach"
	"essworker/internal/notify"
	"essworker/tasks"
)

const namespace = "essworker"

// Metrics holds the worker's metrics, registered on their own registry together
// with the Go and process collectors.
type Metrics struct {
	Registry *prometheus.Registry

	jobs             *prometheus.CounterVec
	jobDuration      *prometheus.HistogramVec
	essRequests      *prometheus.CounterVec
	essDuration      *prometheus.HistogramVec
	activities       *prometheus.CounterVec
	activityDuration prometheus.Histogram
	rateLimitWait    prometheus.Histogram
	leaseContention  prometheus.Counter
	notifications    *prometheus.CounterVec
}

// New creates and registers the metrics.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "jobs_total",
			Help: "Jobs that reached a final answer, by task type and outcome.",
		}, []string{"type", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "job_duration_seconds",
			Help:    "Time from enqueue to a job's final answer.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"type"}),
		essRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "ess_requests_total",
			Help: "ESS API calls by action and answer code (OK, the ESS error code, or network).",
		}, []string{"action", "code"}),
		essDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "ess_request_duration_seconds",
			Help:    "Latency of ESS API calls.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"action"}),
		activities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "scaling_activities_total",
			Help: "Followed scaling activities that ended, by final status (Timeout when the wait bound ran out).",
		}, []string{"status"}),
		activityDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "scaling_activity_duration_seconds",
			Help:    "Time from the detach answer to the activity's observed end.",
			Buckets: []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}),
		rateLimitWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "rate_limit_wait_seconds",
			Help:    "Time ESS calls waited for the fleet-wide rate limit.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}),
		leaseContention: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "group_lock_contention_total",
			Help: "Attempts that found their scaling group leased by another job.",
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_total",
			Help: "Webhook delivery attempts of job notices, by outcome (delivered, retried, dropped).",
		}, []string{"outcome"}),
	}
	m.Registry.MustRegister(
		m.jobs, m.jobDuration, m.essRequests, m.essDuration, m.activities,
		m.activityDuration, m.rateLimitWait, m.leaseContention, m.notifications,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Series that exist from the start, at zero, so rates and alerts see them.
	for _, o := range []string{tasks.OutcomeDetached, tasks.OutcomeNotAttached, tasks.OutcomeFailed,
		tasks.OutcomeInvalid, tasks.OutcomeActivityFailed, tasks.OutcomeActivityTimeout} {
		m.jobs.WithLabelValues(tasks.TypeDetachLoadBalancers, o)
	}
	for _, s := range []string{essclient.StatusSuccessful, essclient.StatusWarning, essclient.StatusFailed, essclient.StatusRejected, detach.ActivityStatusTimeout} {
		m.activities.WithLabelValues(s)
	}
	for _, o := range []string{notify.OutcomeDelivered, notify.OutcomeRetried, notify.OutcomeDropped} {
		m.notifications.WithLabelValues(o)
	}
	return m
}

// ObserveRequest implements essclient.Observer.
func (m *Metrics) ObserveRequest(action, code string, d time.Duration) {
	m.essRequests.WithLabelValues(action, code).Inc()
	m.essDuration.WithLabelValues(action).Observe(d.Seconds())
}

// ObserveRateLimitWait implements essclient.Observer.
func (m *Metrics) ObserveRateLimitWait(d time.Duration) { m.rateLimitWait.Observe(d.Seconds()) }

// JobFinished implements detach.Observer.
func (m *Metrics) JobFinished(taskType, outcome string, sinceEnqueue time.Duration) {
	m.jobs.WithLabelValues(taskType, outcome).Inc()
	if sinceEnqueue >= 0 {
		m.jobDuration.WithLabelValues(taskType).Observe(sinceEnqueue.Seconds())
	}
}

// ActivityFinished implements detach.Observer.
func (m *Metrics) ActivityFinished(status string, d time.Duration) {
	m.activities.WithLabelValues(status).Inc()
	m.activityDuration.Observe(d.Seconds())
}

// GroupLeaseContended implements detach.Observer.
func (m *Metrics) GroupLeaseContended() { m.leaseContention.Inc() }

// NotificationOutcome implements notify.Observer.
func (m *Metrics) NotificationOutcome(outcome string) { m.notifications.WithLabelValues(outcome).Inc() }
