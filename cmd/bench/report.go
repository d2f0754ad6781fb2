package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Verdicts of a row.
const (
	verdictPass  = "PASS"
	verdictFail  = "FAIL"
	verdictInfo  = "INFO"  // a figure the goal asks to report, with no target
	verdictError = "ERROR" // the figure could not be measured
	verdictSkip  = "SKIP"  // not selected with --only
)

// row is one line of the table. ratio is measured/baseline; target bounds it.
type row struct {
	goal     string
	figure   string
	measured string
	baseline string
	ratio    string
	target   string
	verdict  string
}

// atMost is a row for "measured at most limit": ratio measured/limit, ≤ 1.
func atMost(goal, figure string, measured, limit float64, unit func(float64) string) row {
	r := row{goal: goal, figure: figure, measured: unit(measured), baseline: unit(limit) + " (limit)", target: "≤ 1"}
	r.ratio, r.verdict = ratioOf(measured, limit, func(q float64) bool { return q <= 1 })
	return r
}

// atLeast is a row for "measured at least min×baseline".
func atLeast(goal, figure string, measured, baseline, min float64, unit func(float64) string, baseName string) row {
	r := row{goal: goal, figure: figure, measured: unit(measured), baseline: unit(baseline) + " (" + baseName + ")", target: fmt.Sprintf("≥ %.2f", min)}
	r.ratio, r.verdict = ratioOf(measured, baseline, func(q float64) bool { return q >= min })
	return r
}

// reference is an INFO row: a figure beside another measured in the same run,
// with their ratio and no target.
func reference(goal, figure string, measured, baseline float64, unit func(float64) string, baseName string) row {
	r := row{goal: goal, figure: figure, measured: unit(measured), baseline: unit(baseline) + " (" + baseName + ")", target: "reported", verdict: verdictInfo}
	r.ratio, _ = ratioOf(measured, baseline, func(float64) bool { return true })
	if r.ratio == "—" {
		r.verdict = verdictError
	}
	return r
}

func ratioOf(measured, base float64, ok func(float64) bool) (string, string) {
	if base == 0 || math.IsNaN(measured) {
		return "—", verdictError
	}
	q := measured / base
	if ok(q) {
		return fmt.Sprintf("%.2f", q), verdictPass
	}
	return fmt.Sprintf("%.2f", q), verdictFail
}

// Units for the table.
func plain(v float64) string     { return fmt.Sprintf("%.2f", v) }
func seconds(v float64) string   { return fmt.Sprintf("%.2fs", v) }
func perSecond(v float64) string { return fmt.Sprintf("%.1f/s", v) }
func mebibytes(v float64) string { return fmt.Sprintf("%.1f MiB", v/(1<<20)) }
func bytesUnit(v float64) string { return fmt.Sprintf("%.0f B", v) }

// machine describes where the figures come from.
type machine struct {
	date, goVersion, cpu, redis string
	nproc, gomaxprocs           int
}

func thisMachine(redisVersion string) machine {
	return machine{
		date:       time.Now().UTC().Format(time.RFC3339),
		goVersion:  runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		cpu:        cpuModel(),
		redis:      redisVersion,
		nproc:      runtime.NumCPU(),
		gomaxprocs: runtime.GOMAXPROCS(0),
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// report is everything the run prints.
type report struct {
	mode    string
	machine machine
	rows    []row
	notes   []string
}

func (r report) write(w io.Writer) error {
	m := r.machine
	fmt.Fprintf(w, "essworker performance benchmark, %s run, %s\n", r.mode, m.date)
	fmt.Fprintf(w, "machine: nproc %d, GOMAXPROCS %d, %s, CPU %s, redis %s\n\n", m.nproc, m.gomaxprocs, m.goVersion, m.cpu, m.redis)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GOAL\tFIGURE\tMEASURED\tBASELINE / LIMIT\tRATIO\tTARGET\tVERDICT")
	for _, x := range r.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.goal, x.figure, x.measured, x.baseline, x.ratio, x.target, x.verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	return nil
}

// failed reports whether any row failed or could not be measured.
func (r report) failed() bool {
	for _, x := range r.rows {
		if x.verdict == verdictFail || x.verdict == verdictError {
			return true
		}
	}
	return false
}
