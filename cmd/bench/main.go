package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitPass  = 0 // every goal run passed (INFO rows included)
	exitFail  = 1 // a goal failed or could not be measured
	exitUsage = 2 // bad flags
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	only      []string // goal names, upper case; all when empty
	quick     bool
	redisURL  string
	workerBin string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var only string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&only, "only", "", "comma-separated goals to run (P1..P6); default all")
	fs.BoolVar(&o.quick, "quick", false, "small sizes and short activities: a smoke run, not the figures of record")
	fs.StringVar(&o.redisURL, "redis-url", "", "use this Redis (a dedicated database: the bench leaves a few keys) instead of starting redis-server")
	fs.StringVar(&o.workerBin, "worker-bin", "", "worker binary for P3 and P5 (default: go build essworker/cmd/worker into a temporary directory)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./cmd/bench [--only P1,P3] [--quick] [--redis-url URL] [--worker-bin PATH]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, g := range strings.Split(only, ",") {
		g = strings.ToUpper(strings.TrimSpace(g))
		if g == "" {
			continue
		}
		if !slices.Contains(goalNames, g) {
			return o, fmt.Errorf("--only: %q is not one of %s", g, strings.Join(goalNames, ", "))
		}
		o.only = append(o.only, g)
	}
	return o, nil
}

func (o options) selected(goal string) bool { return len(o.only) == 0 || slices.Contains(o.only, goal) }

// run is the program; it returns the exit code. The table goes to stdout,
// progress to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitUsage
	}
	env, cleanup, err := newBenchEnv(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitFail
	}
	defer cleanup()

	mode := "full"
	if o.quick {
		mode = "quick"
	}
	rep := report{mode: mode, machine: thisMachine(env.redisVersion)}
	rep.notes = append(rep.notes, env.redisNote)
	for _, sc := range scenarios {
		if !slices.ContainsFunc(sc.goals, o.selected) {
			for _, g := range sc.goals {
				rep.rows = append(rep.rows, row{goal: g, figure: "not run (--only)", measured: "—", baseline: "—", ratio: "—", target: "—", verdict: verdictSkip})
			}
			continue
		}
		env.progress("running %s", strings.Join(sc.goals, "+"))
		began := time.Now()
		res := sc.run(ctx, env)
		if res.err != nil {
			res.rows = append(res.rows, row{goal: sc.goals[0], figure: sc.name + ": " + res.err.Error(), measured: "—", baseline: "—", ratio: "—", target: "—", verdict: verdictError})
		}
		rep.rows = append(rep.rows, res.rows...)
		for _, n := range res.notes {
			rep.notes = append(rep.notes, strings.Join(sc.goals, "/")+": "+n)
		}
		env.progress("%s took %v", strings.Join(sc.goals, "+"), time.Since(began).Round(100*time.Millisecond))
	}
	if err := rep.write(stdout); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return exitFail
	}
	if rep.failed() {
		return exitFail
	}
	return exitPass
}

// result is what a scenario measured.
type result struct {
	rows  []row
	notes []string
	err   error
}

// scenario measures one or more goals in one run of the system.
type scenario struct {
	name  string
	goals []string
	run   func(context.Context, *benchEnv) result
}

var goalNames = []string{"P1", "P2", "P3", "P4", "P5", "P6", "P7"}

// scenarios in the order they run and print.
var scenarios = []scenario{
	{name: "adaptive polling", goals: []string{"P1", "P2"}, run: runPolling},
	{name: "shared rate limit", goals: []string{"P3"}, run: runRateLimit},
	{name: "sync throughput", goals: []string{"P4"}, run: runThroughput},
	{name: "memory", goals: []string{"P5"}, run: runMemory},
	{name: "producer API", goals: []string{"P6"}, run: runAPI},
	{name: "shared calls", goals: []string{"P7"}, run: runCoalescing},
}
