package deploytest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// prometheusNames are series Prometheus makes itself for every target.
var prometheusNames = []string{"up"}

// dashboardPath is the dashboard, relative to deploy/.
var dashboardPath = []string{"grafana", "dashboards", "essworker.json"}

// dashboard is the part of the Grafana dashboard JSON these tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource json.RawMessage          `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func loadDashboard(t testing.TB) dashboard {
	t.Helper()
	b, err := os.ReadFile(deployPath(t, dashboardPath...))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	return d
}

// dashboardExprs lists the PromQL of every panel target and query variable,
// each with where it comes from.
func dashboardExprs(t *testing.T, d dashboard) map[string]string {
	t.Helper()
	exprs := map[string]string{}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for i, tg := range p.Targets {
				exprs[fmt.Sprintf("panel %q target %d", p.Title, i)] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		switch q := v.Query.(type) {
		case string:
			exprs["variable "+v.Name] = q
		case map[string]any:
			exprs["variable "+v.Name] = fmt.Sprint(q["query"])
		}
	}
	return exprs
}

// TestDashboardShape checks the dashboard as Grafana loads it: unique panel
// IDs, every graph has a query and reads the $datasource variable, and the
// grid fits 24 columns.
func TestDashboardShape(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q title %q: want both", d.UID, d.Title)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v does not fit 24 columns", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if !strings.Contains(string(p.Datasource), "${datasource}") {
			t.Errorf("panel %q: datasource %s, want ${datasource}", p.Title, p.Datasource)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q: a target without expr", p.Title)
			}
		}
	}
	hasDS := false
	for _, v := range d.Templating.List {
		hasDS = hasDS || v.Name == "datasource" && v.Type == "datasource"
	}
	if !hasDS {
		t.Error("no datasource variable")
	}
}

// TestExpressionsUseExposedMetrics scrapes a live worker and a live producer
// API and checks that every PromQL expression of the dashboard and the alert
// rules names only metrics they expose (or Prometheus' own up), and that the
// dashboard shows every essworker metric.
func TestExpressionsUseExposedMetrics(t *testing.T) {
	t.Parallel()
	w := startLiveWorker(t)
	exposed := exposedNames(t, w.metrics)
	maps.Copy(exposed, exposedNames(t, startLiveAPI(t)))
	for _, name := range []string{
		"essworker_jobs_total", "essworker_job_duration_seconds_bucket", "essworker_ess_requests_total",
		"essworker_ess_request_duration_seconds_bucket", "essworker_scaling_activities_total",
		"essworker_scaling_activity_duration_seconds_bucket", "essworker_activities_in_flight",
		"essworker_rate_limit_wait_seconds_bucket", "essworker_group_lock_contention_total",
		"essworker_queue_tasks", "essworker_queue_latency_seconds", "essworker_queue_scrape_success",
		"essworker_api_requests_total", "essworker_api_request_duration_seconds_bucket", "essworker_api_requests_in_flight",
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if _, ok := exposed[name]; !ok {
			t.Errorf("the live worker and API do not expose %s", name)
		}
	}

	exprs := dashboardExprs(t, loadDashboard(t))
	if len(exprs) == 0 {
		t.Fatal("no expressions in the dashboard")
	}
	shown := map[string]bool{} // families the dashboard shows
	for where, expr := range exprs {
		for _, name := range checkExprNames(t, "dashboard "+where, expr, exposed) {
			shown[exposed[name]] = true
		}
	}
	for _, family := range exposed {
		if strings.HasPrefix(family, "essworker_") && !shown[family] {
			t.Errorf("the dashboard does not show %s", family)
		}
	}

	for _, r := range loadAlertRules(t) {
		checkExprNames(t, "alert "+r.Alert, r.Expr, exposed)
	}
}

// checkExprNames fails t for each name of expr that is not exposed, and
// returns the exposed ones.
func checkExprNames(t *testing.T, where, expr string, exposed map[string]string) []string {
	t.Helper()
	names, err := metricNames(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return nil
	}
	if len(names) == 0 {
		t.Errorf("%s: no metric in %q", where, expr)
	}
	var ok []string
	for _, n := range names {
		switch _, found := exposed[n]; {
		case found:
			ok = append(ok, n)
		case slices.Contains(prometheusNames, n):
		default:
			t.Errorf("%s: %s is not a metric the worker or the API exposes (in %q)", where, n, expr)
		}
	}
	return ok
}
