package deploytest

import (
	"strings"
	"testing"
)

// The files promtool checks, relative to deploy/.
const (
	prometheusConfigFile = "prometheus.yml"
	alertRulesFile       = "alerts.rules.yml"
	alertTestsFile       = "alerts_test.yml"
)

func TestPromtool(t *testing.T) {
	t.Parallel()
	promtool := requireTool(t, "promtool")
	dir := deployPath(t)
	cases := []struct {
		name string
		args []string
		want string // in promtool's output
	}{
		{"check config", []string{"check", "config", prometheusConfigFile}, "SUCCESS"},
		{"check rules", []string{"check", "rules", alertRulesFile}, "SUCCESS"},
		{"test rules", []string{"test", "rules", alertTestsFile}, "SUCCESS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := runTool(t, dir, promtool, c.args...)
			if !strings.Contains(out, c.want) {
				t.Fatalf("promtool %v: no %q in\n%s", c.args, c.want, out)
			}
		})
	}
}

// TestAlertRulesAreTested checks that alerts_test.yml expects every alert of
// alerts.rules.yml to fire somewhere and, somewhere, not to fire.
func TestAlertRulesAreTested(t *testing.T) {
	t.Parallel()
	var tests struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			Name           string `yaml:"name"`
			AlertRuleTests []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, deployPath(t, alertTestsFile), &tests)
	if len(tests.RuleFiles) != 1 || tests.RuleFiles[0] != alertRulesFile {
		t.Errorf("%s tests rule files %v, want [%s]", alertTestsFile, tests.RuleFiles, alertRulesFile)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTests {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	rules := loadAlertRules(t)
	if len(rules) == 0 {
		t.Fatalf("no alert rules in %s", alertRulesFile)
	}
	for _, r := range rules {
		if !fires[r.Alert] {
			t.Errorf("alert %s: no test expects it to fire", r.Alert)
		}
		if !silent[r.Alert] {
			t.Errorf("alert %s: no test expects it to stay silent", r.Alert)
		}
		if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("alert %s: wants a severity label and summary and description annotations", r.Alert)
		}
	}
}

// alertRule is one rule of alerts.rules.yml.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlertRules(t testing.TB) []alertRule {
	t.Helper()
	var file struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, deployPath(t, alertRulesFile), &file)
	var rules []alertRule
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Fatalf("group %s: a rule without alert name (recording rule %q?): these tests expect alerting rules only", g.Name, r.Record)
			}
			rules = append(rules, r)
		}
	}
	return rules
}
