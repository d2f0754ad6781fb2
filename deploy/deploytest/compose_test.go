package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestComposeConfigValid(t *testing.T) {
	t.Parallel()
	compose := requireTool(t, "docker-compose")
	root := repoRoot(t)
	// config needs no Docker engine: it only reads and validates the file.
	runTool(t, t.TempDir(), compose, "--project-directory", root, "-f", filepath.Join(root, "docker-compose.yml"), "config", "-q")
}

// composeFile is the part of docker-compose.yml these tests read (YAML merge
// keys resolved by the parser).
type composeFile struct {
	Version  string                    `yaml:"version"`
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image           string                                `yaml:"image"`
	Build           map[string]string                     `yaml:"build"`
	Command         []string                              `yaml:"command"`
	Environment     map[string]string                     `yaml:"environment"`
	Volumes         []string                              `yaml:"volumes"`
	Ports           []string                              `yaml:"ports"`
	Healthcheck     *struct{ Test []string }              `yaml:"healthcheck"`
	DependsOn       map[string]struct{ Condition string } `yaml:"depends_on"`
	StopGracePeriod string                                `yaml:"stop_grace_period"`
	Secrets         []string                              `yaml:"secrets"`
}

func loadCompose(t testing.TB) composeFile {
	t.Helper()
	var c composeFile
	readYAML(t, filepath.Join(repoRoot(t), "docker-compose.yml"), &c)
	return c
}

// mountTarget returns where svc mounts the host path src (relative to the
// repository root), or "".
func (svc composeService) mountTarget(src string) string {
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && filepath.Clean(parts[0]) == filepath.Clean("./"+src) {
			return parts[1]
		}
	}
	return ""
}

// TestComposeStack checks what one `docker-compose up` relies on, across files.
func TestComposeStack(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	if c.Version != "" {
		t.Errorf("top-level version %q: leave it out (Compose Specification, with depends_on conditions)", c.Version)
	}
	for _, name := range []string{"redis", "ess-emulator", "worker-1", "worker-2", "api", "prometheus", "grafana", "asynqmon"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}

	redis := c.Services["redis"]
	if !slices.Contains(redis.Command, "--appendonly") || redis.Command[slices.Index(redis.Command, "--appendonly")+1] != "yes" {
		t.Errorf("redis command %v: want --appendonly yes", redis.Command)
	}

	emu := c.Services["ess-emulator"]
	wantEmu := []string{"ess-emulator", "--addr", "0.0.0.0:8080", "--state", "/deploy/emulator-state.json"}
	if !slices.Equal(emu.Command, wantEmu) {
		t.Errorf("ess-emulator command %v, want %v", emu.Command, wantEmu)
	}
	if got := emu.mountTarget("deploy/emulator-state.json"); got != "/deploy/emulator-state.json" {
		t.Errorf("ess-emulator mounts deploy/emulator-state.json at %q", got)
	}

	var workers []string
	for name, svc := range c.Services {
		if len(svc.Command) > 0 && svc.Command[0] == "worker" {
			workers = append(workers, name)
		}
	}
	slices.Sort(workers)
	if len(workers) != 2 {
		t.Fatalf("worker services %v, want two", workers)
	}
	for _, name := range workers {
		checkComposeWorker(t, name, c.Services[name])
	}
	checkComposeNotifySecret(t, c)

	// Every depends_on waits for a healthcheck the dependency has.
	for name, svc := range c.Services {
		for dep, d := range svc.DependsOn {
			if d.Condition != "service_healthy" {
				t.Errorf("%s depends on %s with condition %q, want service_healthy", name, dep, d.Condition)
			}
			if c.Services[dep].Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}

	// The workers' image has busybox wget, which the healthchecks use.
	for name, svc := range c.Services {
		if svc.Image == c.Services["worker-1"].Image && svc.Build["dockerfile"] != "deploy/Dockerfile" {
			t.Errorf("%s uses the worker image without building it from deploy/Dockerfile", name)
		}
	}

	prom := c.Services["prometheus"]
	if got := prom.mountTarget("deploy/prometheus.yml"); got != "/etc/prometheus/prometheus.yml" {
		t.Errorf("prometheus mounts deploy/prometheus.yml at %q", got)
	}
	if got := prom.mountTarget("deploy/" + alertRulesFile); got != "/etc/prometheus/"+alertRulesFile {
		t.Errorf("prometheus mounts the rules at %q; prometheus.yml names them relative to itself", got)
	}
	checkPrometheusTargets(t, workers)
	checkComposeAPI(t, c.Services["api"])

	graf := c.Services["grafana"]
	var provider struct {
		Providers []struct {
			Options struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, deployPath(t, "grafana", "provisioning", "dashboards", "essworker.yml"), &provider)
	if len(provider.Providers) != 1 || graf.mountTarget("deploy/grafana/dashboards") != provider.Providers[0].Options.Path {
		t.Errorf("grafana mounts the dashboards at %q, the provider reads %+v", graf.mountTarget("deploy/grafana/dashboards"), provider.Providers)
	}
	for _, sub := range []string{"datasources", "dashboards"} {
		if got := graf.mountTarget("deploy/grafana/provisioning/" + sub); got != "/etc/grafana/provisioning/"+sub {
			t.Errorf("grafana mounts provisioning/%s at %q", sub, got)
		}
	}
	var ds struct {
		Datasources []struct {
			Type, URL string
		} `yaml:"datasources"`
	}
	readYAML(t, deployPath(t, "grafana", "provisioning", "datasources", "prometheus.yml"), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("grafana data sources %+v, want the prometheus service", ds.Datasources)
	}

	mon := c.Services["asynqmon"]
	if !strings.HasPrefix(mon.Image, "hibiken/asynqmon") || !slices.Contains(mon.Command, "--redis-url=redis://redis:6379/0") {
		t.Errorf("asynqmon: image %q command %v", mon.Image, mon.Command)
	}
}

func checkComposeWorker(t *testing.T, name string, svc composeService) {
	t.Helper()
	env := svc.Environment
	want := map[string]string{
		"REDIS_URL":                       "redis://redis:6379/0",
		"ESS_ENDPOINT":                    "http://ess-emulator:8080",
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "TESTAKID",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "TESTSECRET",
		"METRICS_ADDR":                    ":9090",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s: %s=%q, want %q", name, k, env[k], v)
		}
	}
	for k := range env {
		if !slices.Contains(workerEnvNames, k) && !strings.HasPrefix(k, "ALIBABA_CLOUD_ACCESS_KEY_") {
			t.Errorf("%s: environment variable %s is not one the worker reads", name, k)
		}
	}
	shutdown, err := time.ParseDuration(env["SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("%s: SHUTDOWN_TIMEOUT: %v", name, err)
	}
	grace, err := time.ParseDuration(svc.StopGracePeriod)
	if err != nil || grace <= shutdown {
		t.Errorf("%s: stop_grace_period %q must exceed SHUTDOWN_TIMEOUT %v", name, svc.StopGracePeriod, shutdown)
	}
	for _, dep := range []string{"redis", "ess-emulator"} {
		if svc.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("%s does not wait for %s to be healthy", name, dep)
		}
	}
	if svc.Healthcheck == nil || !strings.Contains(strings.Join(svc.Healthcheck.Test, " "), "/readyz") {
		t.Errorf("%s: want a healthcheck on /readyz", name)
	}
	// Notices are off unless the operator exports both variables; the secret
	// is there as a file for when they do.
	for _, k := range []string{"NOTIFY_URL", "NOTIFY_SECRET_FILE"} {
		if env[k] != "${"+k+":-}" {
			t.Errorf("%s: %s=%q, want ${%s:-} (off unless exported)", name, k, env[k], k)
		}
	}
	if !slices.Contains(svc.Secrets, "notify-secret") {
		t.Errorf("%s: secrets %v, want notify-secret (/run/secrets/notify-secret)", name, svc.Secrets)
	}
}

// checkComposeNotifySecret checks that the notices' secret of the compose
// workers is a file of the repository that holds a secret.
func checkComposeNotifySecret(t *testing.T, c composeFile) {
	t.Helper()
	file := c.Secrets["notify-secret"].File
	if file == "" {
		t.Fatal("no top-level secret notify-secret with a file")
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(t), file))
	if err != nil || len(strings.TrimSpace(string(b))) < 16 {
		t.Errorf("notify-secret file %s: %v; want a secret of 16 characters or more", file, err)
	}
}

// checkPrometheusTargets checks that deploy/prometheus.yml's essworker job
// scrapes exactly the compose workers on their metrics port.
func checkPrometheusTargets(t *testing.T, workers []string) {
	t.Helper()
	job := essworkerScrapeJob(t, loadPrometheusConfig(t))
	var targets []string
	for _, sc := range job["static_configs"].([]any) {
		for _, target := range sc.(map[string]any)["targets"].([]any) {
			targets = append(targets, fmt.Sprint(target))
		}
	}
	slices.Sort(targets)
	var want []string
	for _, w := range workers {
		want = append(want, w+":9090")
	}
	if !slices.Equal(targets, want) {
		t.Errorf("prometheus.yml scrapes %v, want the compose workers %v", targets, want)
	}
}

// apiEnvNames are the environment variables cmd/api reads.
var apiEnvNames = []string{
	"API_ADDR", "REDIS_URL", "REDIS_TLS_CA_FILE", "API_TOKENS_FILE", "API_INSECURE_NO_AUTH",
	"API_TLS_CERT_FILE", "API_TLS_KEY_FILE", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT",
}

// checkComposeAPI checks the api service: the image's api program on
// 127.0.0.1:8088 with the demo tokens file (which holds a valid client), a
// healthcheck on /readyz, time to finish requests on stop, and its scrape job.
func checkComposeAPI(t *testing.T, svc composeService) {
	t.Helper()
	if !slices.Equal(svc.Command, []string{"api"}) || !slices.Equal(svc.Ports, []string{"127.0.0.1:8088:8088"}) {
		t.Errorf("api: command %v ports %v, want [api] on 127.0.0.1:8088", svc.Command, svc.Ports)
	}
	env := svc.Environment
	for k := range env {
		if !slices.Contains(apiEnvNames, k) {
			t.Errorf("api: environment variable %s is not one cmd/api reads", k)
		}
	}
	flagsSrc, err := os.ReadFile(filepath.Join(repoRoot(t), "cmd", "api", "flags.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range apiEnvNames {
		if !strings.Contains(string(flagsSrc), strconv.Quote(name)) {
			t.Errorf("cmd/api does not read %s", name)
		}
	}
	if env["API_ADDR"] != "0.0.0.0:8088" || env["REDIS_URL"] != "redis://redis:6379/0" || env["API_INSECURE_NO_AUTH"] != "" {
		t.Errorf("api: environment %v", env)
	}
	if got := svc.mountTarget("deploy/api-tokens.demo"); got == "" || got != env["API_TOKENS_FILE"] {
		t.Errorf("api: mounts deploy/api-tokens.demo at %q, API_TOKENS_FILE is %q", got, env["API_TOKENS_FILE"])
	}
	tokens, err := os.ReadFile(deployPath(t, "api-tokens.demo"))
	if err != nil {
		t.Fatal(err)
	}
	valid := 0
	for _, line := range strings.Split(string(tokens), "\n") {
		line = strings.TrimSpace(line)
		if name, token, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") && name != "" && len(token) >= 16 {
			valid++
		}
	}
	if valid == 0 {
		t.Error("deploy/api-tokens.demo holds no NAME:TOKEN line the API takes")
	}
	shutdown, err := time.ParseDuration(env["SHUTDOWN_TIMEOUT"])
	grace, gerr := time.ParseDuration(svc.StopGracePeriod)
	if err != nil || gerr != nil || grace <= shutdown {
		t.Errorf("api: stop_grace_period %q must exceed SHUTDOWN_TIMEOUT %q", svc.StopGracePeriod, env["SHUTDOWN_TIMEOUT"])
	}
	if svc.Healthcheck == nil || !strings.Contains(strings.Join(svc.Healthcheck.Test, " "), "http://127.0.0.1:8088/readyz") {
		t.Errorf("api: want a healthcheck on /readyz")
	}
	if svc.DependsOn["redis"].Condition != "service_healthy" {
		t.Error("api does not wait for redis to be healthy")
	}
	var targets []string
	for _, job := range loadPrometheusConfig(t)["scrape_configs"].([]any) {
		j := job.(map[string]any)
		if j["job_name"] != apiJob {
			continue
		}
		for _, sc := range j["static_configs"].([]any) {
			for _, target := range sc.(map[string]any)["targets"].([]any) {
				targets = append(targets, fmt.Sprint(target))
			}
		}
	}
	if !slices.Equal(targets, []string{"api:8088"}) {
		t.Errorf("prometheus.yml job %s scrapes %v, want [api:8088]", apiJob, targets)
	}
}
