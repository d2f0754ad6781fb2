package deploytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"essworker/internal/logcapture"
	"essworker/internal/sharedtest"
	"essworker/internal/workertest"
	"essworker/tasks"
)

// Bounds of the live Prometheus test.
const (
	promStartTimeout = 20 * time.Second
	promStopTimeout  = 10 * time.Second
	promDataTimeout  = 20 * time.Second
)

// essworkerJob is the scrape job the alert rules and the dashboard select.
const essworkerJob = "essworker"

// apiJob is the scrape job of the producer API, which its alert rule and
// dashboard row select.
const apiJob = "essworker-api"

func loadPrometheusConfig(t testing.TB) map[string]any {
	t.Helper()
	var cfg map[string]any
	readYAML(t, deployPath(t, prometheusConfigFile), &cfg)
	return cfg
}

// essworkerScrapeJob returns the scrape config of job "essworker".
func essworkerScrapeJob(t testing.TB, cfg map[string]any) map[string]any {
	t.Helper()
	list, _ := cfg["scrape_configs"].([]any)
	for _, sc := range list {
		if m, ok := sc.(map[string]any); ok && m["job_name"] == essworkerJob {
			return m
		}
	}
	t.Fatalf("%s has no scrape job %q (the alert rules select it)", prometheusConfigFile, essworkerJob)
	return nil
}

// writeTestPrometheusConfig derives a configuration from deploy/prometheus.yml:
// the essworker job scrapes target, every second; rules are evaluated every
// second; the other jobs are left out (they point at compose hosts).
func writeTestPrometheusConfig(t *testing.T, dir, target string) string {
	t.Helper()
	cfg := loadPrometheusConfig(t)
	global, _ := cfg["global"].(map[string]any)
	if global == nil {
		global = map[string]any{}
	}
	global["scrape_interval"], global["scrape_timeout"], global["evaluation_interval"] = "1s", "1s", "1s"
	cfg["global"] = global
	rules, _ := cfg["rule_files"].([]any)
	if len(rules) == 0 {
		t.Fatalf("%s loads no rule files", prometheusConfigFile)
	}
	for i, r := range rules {
		rules[i] = deployPath(t, fmt.Sprint(r))
	}
	job := essworkerScrapeJob(t, cfg)
	job["static_configs"] = []any{map[string]any{"targets": []any{target}}}
	cfg["scrape_configs"] = []any{job}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startPrometheus runs the prometheus binary on a free loopback port with the
// configuration at cfgPath and returns its base URL; it stops in t.Cleanup.
func startPrometheus(t *testing.T, bin, cfgPath, dataDir string) string {
	t.Helper()
	addr, err := sharedtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logcapture.Buffer{}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+dataDir,
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(promStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	sharedtest.WaitFor(t, "prometheus /-/ready", promStartTimeout, func() (bool, string) {
		select {
		case err := <-exited:
			exited <- err
			return false, fmt.Sprintf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		code, _, err := workertest.Get(base + "/-/ready")
		return err == nil && code == http.StatusOK, fmt.Sprint("status ", code, " ", err)
	})
	return base
}

// promAPI gets a Prometheus HTTP API path and decodes its data into v.
func promAPI(base, path string, v any) error {
	code, body, err := workertest.Get(base + path)
	if err != nil {
		return err
	}
	var resp struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return fmt.Errorf("GET %s: status %d: %v", path, code, err)
	}
	if resp.Status != "success" {
		return fmt.Errorf("GET %s: %s", path, resp.Error)
	}
	return json.Unmarshal(resp.Data, v)
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query and returns its samples by the value of label.
func query(base, q, label string) (map[string]string, error) {
	var data struct {
		Result []promSample `json:"result"`
	}
	if err := promAPI(base, "/api/v1/query?query="+url.QueryEscape(q), &data); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range data.Result {
		out[s.Metric[label]] = fmt.Sprint(s.Value[1])
	}
	return out, nil
}

// TestPrometheusScrapesLiveWorker runs the real Prometheus with deploy/'s
// configuration (target replaced) and rules against a live worker, and reads
// the worker's series and the rules back through Prometheus' API.
func TestPrometheusScrapesLiveWorker(t *testing.T) {
	t.Parallel()
	bin := requireTool(t, "prometheus")
	// The jobs end before Prometheus starts, so its counters never move while
	// it watches: no rate-based alert can become active on this healthy worker.
	w := startLiveWorker(t)
	dir := t.TempDir()
	cfgPath := writeTestPrometheusConfig(t, dir, w.addr)
	base := startPrometheus(t, bin, cfgPath, filepath.Join(dir, "data"))

	want := map[string]string{
		tasks.OutcomeDetached: "2", tasks.OutcomeNotAttached: "1", tasks.OutcomeFailed: "1",
		tasks.OutcomeInvalid: "0", tasks.OutcomeActivityFailed: "0", tasks.OutcomeActivityTimeout: "0",
	}
	q := fmt.Sprintf(`essworker_jobs_total{job=%q, instance=%q, type=%q}`, essworkerJob, w.addr, tasks.TypeDetachLoadBalancers)
	sharedtest.WaitFor(t, "worker series in Prometheus", promDataTimeout, func() (bool, string) {
		got, err := query(base, q, "outcome")
		if err != nil {
			return false, err.Error()
		}
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("%s = %v, want %v", q, got, want)
	})
	for _, c := range []struct{ query, label, key, want string }{
		{`essworker_job_duration_seconds_count{job="essworker"}`, "type", tasks.TypeDetachLoadBalancers, "4"},
		{`essworker_queue_tasks{job="essworker", queue="default"}`, "state", "archived", "1"},
		{`essworker_queue_tasks{job="essworker", queue="default"}`, "state", "completed", "3"},
		{`essworker_scaling_activities_total{job="essworker"}`, "status", "Successful", "1"},
		{`up{job="essworker"}`, "instance", w.addr, "1"},
	} {
		got, err := query(base, c.query, c.label)
		if err != nil {
			t.Fatal(err)
		}
		if got[c.key] != c.want {
			t.Errorf("%s{%s=%q} = %q, want %s (all: %v)", c.query, c.label, c.key, got[c.key], c.want, got)
		}
	}

	var names []string
	for _, r := range loadAlertRules(t) {
		names = append(names, r.Alert)
	}
	slices.Sort(names)
	sharedtest.WaitFor(t, "alert rules loaded and evaluated", promDataTimeout, func() (bool, string) {
		var data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Type      string `json:"type"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		}
		if err := promAPI(base, "/api/v1/rules", &data); err != nil {
			return false, err.Error()
		}
		var loaded []string
		var errs []error
		for _, g := range data.Groups {
			for _, r := range g.Rules {
				loaded = append(loaded, r.Name)
				if r.Type != "alerting" || r.Health != "ok" {
					errs = append(errs, fmt.Errorf("rule %s: type %s, health %q %s", r.Name, r.Type, r.Health, r.LastError))
				}
			}
		}
		slices.Sort(loaded)
		if !slices.Equal(loaded, names) {
			errs = append(errs, fmt.Errorf("loaded rules %v, want %v", loaded, names))
		}
		return len(errs) == 0, fmt.Sprint(errors.Join(errs...))
	})
	sharedtest.WaitFor(t, "no alert active for a healthy worker", promDataTimeout, func() (bool, string) {
		var data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		}
		if err := promAPI(base, "/api/v1/alerts", &data); err != nil {
			return false, err.Error()
		}
		return len(data.Alerts) == 0, fmt.Sprintf("active alerts: %+v", data.Alerts)
	})
}
