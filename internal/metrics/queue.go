package metrics

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds the Redis reads of one scrape.
const scrapeTimeout = 5 * time.Second

// queueCollector reads queue sizes and latency from asynq's Inspector, and the
// activities in flight, at scrape time.
type queueCollector struct {
	insp     *asynq.Inspector
	inFlight func(ctx context.Context) (int64, error)
	size     *prometheus.Desc
	latency  *prometheus.Desc
	flying   *prometheus.Desc
	up       *prometheus.Desc
}

// RegisterQueues adds per-queue task counts by state and queue latency, read
// through insp at every scrape, and essworker_activities_in_flight, read by
// inFlight (detach.InFlightActivities: fleet-wide, from Redis).
func (m *Metrics) RegisterQueues(insp *asynq.Inspector, inFlight func(ctx context.Context) (int64, error)) {
	m.Registry.MustRegister(&queueCollector{
		insp:     insp,
		inFlight: inFlight,
		flying: prometheus.NewDesc(namespace+"_activities_in_flight",
			"Scaling activities that jobs are following, fleet-wide.", nil, nil),
		size: prometheus.NewDesc(namespace+"_queue_tasks", "Tasks in a queue, by state.",
			[]string{"queue", "state"}, nil),
		latency: prometheus.NewDesc(namespace+"_queue_latency_seconds",
			"Age of the oldest pending task of a queue.", []string{"queue"}, nil),
		up: prometheus.NewDesc(namespace+"_queue_scrape_success",
			"1 when the queues could be read from Redis at this scrape, 0 otherwise.", nil, nil),
	})
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.size
	ch <- c.latency
	ch <- c.flying
	ch <- c.up
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, flyErr := c.inFlight(ctx)
	if flyErr == nil {
		ch <- prometheus.MustNewConstMetric(c.flying, prometheus.GaugeValue, float64(n))
	}
	queues, err := c.insp.Queues()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ok := 1.0
	if flyErr != nil {
		ok = 0
	}
	for _, q := range queues {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			ok = 0
			continue
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
			"aggregating": info.Aggregating,
		} {
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, info.Latency.Seconds(), q)
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, ok)
}
