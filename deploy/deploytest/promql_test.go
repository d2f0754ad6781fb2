package deploytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// PromQL words that are not metric names.
var (
	promqlAggregators = []string{
		"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
		"bottomk", "topk", "quantile", "limitk", "limit_ratio",
	}
	// Keywords followed by a parenthesized label list.
	promqlLabelListKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	promqlKeywords          = []string{"bool", "offset", "and", "or", "unless", "atan2", "inf", "nan"}
)

// metricNames returns the metric names an expression selects: the bare
// identifiers that are not functions, aggregators or keywords. Strings, label
// matchers, range and subquery brackets, label lists of by/without/on/ignoring/
// group_left/group_right, numbers, durations and Grafana variables ($x, ${x})
// are skipped. A Grafana label_values(selector, label) query is read as its
// selector. It is a scanner, not a parser: good enough to check names.
func metricNames(expr string) ([]string, error) {
	expr = strings.TrimSpace(expr)
	if inner, ok := strings.CutPrefix(expr, "label_values("); ok {
		i := strings.LastIndex(inner, ",")
		if i < 0 {
			return nil, nil // label_values(label): no metric named
		}
		expr = inner[:i]
	}
	var names []string
	s := []rune(expr)
	depth := 0 // of parentheses
	for i := 0; i < len(s); {
		r := s[i]
		switch {
		case r == '(' || r == ')':
			if r == '(' {
				depth++
			} else if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced ) at %d in %q", i, expr)
			}
			i++
		case r == '"' || r == '\'' || r == '`':
			j, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case r == '{' || r == '[':
			j, err := skipBlock(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case r == '$':
			i++
			if i < len(s) && s[i] == '{' {
				for i < len(s) && s[i] != '}' {
					i++
				}
				i++
				continue
			}
			for i < len(s) && isIdentRune(s[i]) {
				i++
			}
		case r == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case r >= '0' && r <= '9' || r == '.':
			for i < len(s) && (isIdentRune(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(r):
			j := i
			for j < len(s) && isIdentRune(s[j]) {
				j++
			}
			word := string(s[i:j])
			next := j
			for next < len(s) && (s[next] == ' ' || s[next] == '\t' || s[next] == '\n') {
				next++
			}
			followedByParen := next < len(s) && s[next] == '('
			lower := strings.ToLower(word)
			switch {
			case slices.Contains(promqlLabelListKeywords, lower):
				if followedByParen {
					k, err := skipBlock(s, next)
					if err != nil {
						return nil, err
					}
					j = k
				}
			case slices.Contains(promqlKeywords, lower), slices.Contains(promqlAggregators, lower), followedByParen:
			default:
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced ( in %q", expr)
	}
	return names, nil
}

func isIdentStart(r rune) bool {
	return r == '_' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func isIdentRune(r rune) bool { return isIdentStart(r) || r >= '0' && r <= '9' }

// skipString returns the index after the string literal that starts at i.
func skipString(s []rune, i int) (int, error) {
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && quote != '`':
			j++
		case s[j] == quote:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at %d in %q", i, string(s))
}

// skipBlock returns the index after the bracketed block that opens at i,
// skipping strings and nested blocks inside it.
func skipBlock(s []rune, i int) (int, error) {
	closer := map[rune]rune{'{': '}', '[': ']', '(': ')'}
	var stack []rune
	for j := i; j < len(s); j++ {
		switch r := s[j]; {
		case r == '"' || r == '\'' || r == '`':
			k, err := skipString(s, j)
			if err != nil {
				return 0, err
			}
			j = k - 1
		case closer[r] != 0:
			stack = append(stack, closer[r])
		case len(stack) > 0 && r == stack[len(stack)-1]:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced %q at %d in %q", s[i], i, string(s))
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		expr string
		want []string
	}{
		{`up{job="essworker"} == 0`, []string{"up"}},
		{`absent(up{job="essworker"} == 1)`, []string{"up"}},
		{`sum by (type) (rate(essworker_jobs_total{outcome=~"failed|x"}[15m])) / sum by (type) (rate(essworker_jobs_total[15m])) > 0.1`,
			[]string{"essworker_jobs_total", "essworker_jobs_total"}},
		{`histogram_quantile(0.95, sum by (le, action) (rate(essworker_ess_request_duration_seconds_bucket{job="essworker"}[$__rate_interval])))`,
			[]string{"essworker_ess_request_duration_seconds_bucket"}},
		{`max by (queue) (deriv(a{state="pending"}[15m])) > 0 and on(queue) max without(instance) (b) > 60`, []string{"a", "b"}},
		{`sum(x{l="}{[(by"}) offset 5m`, []string{"x"}},
		{`rate(c[5m:1m]) * 1e3 + topk(3, d) or vector(0) unless bool e`, []string{"c", "d", "e"}},
		{`go_goroutines{job="essworker", queue=~"$queue", q="${x}"}`, []string{"go_goroutines"}},
		{`label_values(essworker_queue_tasks{job="essworker"}, queue)`, []string{"essworker_queue_tasks"}},
		{`a / ignoring(instance) group_left(type) b`, []string{"a", "b"}},
	}
	for _, c := range cases {
		got, err := metricNames(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%s) = %v, want %v", c.expr, got, c.want)
		}
	}
	for _, bad := range []string{`a{job="x}`, `sum(rate(a[5m])`} {
		if _, err := metricNames(bad); err == nil {
			t.Errorf("metricNames(%s): no error", bad)
		}
	}
}
