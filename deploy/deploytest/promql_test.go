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
	expr, ok := labelValuesSelector(strings.TrimSpace(expr))
	if !ok {
		return nil, nil
	}
	sc := &promqlScanner{s: []rune(expr)}
	for sc.i < len(sc.s) {
		if err := sc.step(); err != nil {
			return nil, err
		}
	}
	if sc.depth != 0 {
		return nil, fmt.Errorf("unbalanced ( in %q", expr)
	}
	return sc.names, nil
}

// labelValuesSelector reads a Grafana label_values(selector, label) query as
// its selector, and any other expression as it is. ok is false for
// label_values(label), which names no metric.
func labelValuesSelector(expr string) (selector string, ok bool) {
	inner, found := strings.CutPrefix(expr, "label_values(")
	if !found {
		return expr, true
	}
	i := strings.LastIndex(inner, ",")
	if i < 0 {
		return "", false
	}
	return inner[:i], true
}

// promqlScanner walks an expression from left to right, collecting the
// metric names it meets.
type promqlScanner struct {
	s     []rune
	i     int // the next rune to read
	depth int // of parentheses
	names []string
}

// step reads what starts at i and moves past it.
func (sc *promqlScanner) step() error {
	switch r := sc.s[sc.i]; {
	case r == '(' || r == ')':
		return sc.paren(r)
	case r == '"' || r == '\'' || r == '`':
		return sc.skip(skipString)
	case r == '{' || r == '[':
		return sc.skip(skipBlock)
	case r == '$':
		sc.variable()
	case r == '#':
		sc.i = sc.end(sc.i, func(r rune) bool { return r != '\n' })
	case r >= '0' && r <= '9' || r == '.':
		sc.i = sc.end(sc.i, func(r rune) bool { return isIdentRune(r) || r == '.' })
	case isIdentStart(r):
		return sc.word()
	default:
		sc.i++
	}
	return nil
}

// paren counts an opening or closing parenthesis.
func (sc *promqlScanner) paren(r rune) error {
	if r == '(' {
		sc.depth++
	} else if sc.depth--; sc.depth < 0 {
		return fmt.Errorf("unbalanced ) at %d in %q", sc.i, string(sc.s))
	}
	sc.i++
	return nil
}

// skip moves past the string or block at i, whose end skipTo finds.
func (sc *promqlScanner) skip(skipTo func(s []rune, i int) (int, error)) error {
	j, err := skipTo(sc.s, sc.i)
	if err != nil {
		return err
	}
	sc.i = j
	return nil
}

// variable moves past a Grafana variable, $name or ${...}.
func (sc *promqlScanner) variable() {
	sc.i++
	if sc.i < len(sc.s) && sc.s[sc.i] == '{' {
		sc.i = sc.end(sc.i, func(r rune) bool { return r != '}' }) + 1
		return
	}
	sc.i = sc.end(sc.i, isIdentRune)
}

// word reads the identifier at i: a metric name unless it is a keyword, an
// aggregator or a function (followed by "("). The label list after
// by/without/on/ignoring/group_left/group_right is skipped with its keyword.
func (sc *promqlScanner) word() error {
	j := sc.end(sc.i, isIdentRune)
	word := string(sc.s[sc.i:j])
	next := sc.end(j, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
	followedByParen := next < len(sc.s) && sc.s[next] == '('
	lower := strings.ToLower(word)
	switch {
	case slices.Contains(promqlLabelListKeywords, lower):
		if followedByParen {
			k, err := skipBlock(sc.s, next)
			if err != nil {
				return err
			}
			j = k
		}
	case slices.Contains(promqlKeywords, lower), slices.Contains(promqlAggregators, lower), followedByParen:
	default:
		sc.names = append(sc.names, word)
	}
	sc.i = j
	return nil
}

// end is the index of the first rune at or after from that is not in, or
// the length of the expression.
func (sc *promqlScanner) end(from int, in func(rune) bool) int {
	for from < len(sc.s) && in(sc.s[from]) {
		from++
	}
	return from
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
