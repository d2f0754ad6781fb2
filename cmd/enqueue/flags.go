package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"essworker/internal/redisconn"
	"essworker/tasks"
)

// Defaults of the flags.
const (
	// defaultRedisURL is --redis-url's default when REDIS_URL is unset too.
	defaultRedisURL = redisconn.DefaultURL
	// defaultQueue is --queue's default: the queue the workers serve by default.
	defaultQueue = tasks.DefaultQueue
	// defaultWaitTimeout is --wait-timeout's default: the worker's default bound
	// on one scaling activity (--poll-timeout, 30m) plus room for the detach
	// call, its retries and the time a job spends queued. A test keeps it in
	// step with the worker's default.
	defaultWaitTimeout = 35 * time.Minute
)

// redisURLEnv is the environment variable read when --redis-url is not given.
const redisURLEnv = "REDIS_URL"

// redisTLSCAFileEnv is the environment variable read when --redis-tls-ca-file
// is not given.
const redisTLSCAFileEnv = "REDIS_TLS_CA_FILE"

// options is the parsed command line.
type options struct {
	redisURL    string
	group       string
	lbs         lbList
	force       bool
	async       bool
	token       string
	region      string
	queue       string
	file        string
	allGroups   bool
	wait        bool
	waitTimeout time.Duration
	// at and in are --at and --in as given; schedule is what they ask for,
	// set by check.
	at       string
	in       time.Duration
	schedule tasks.Schedule
	// given holds the names of the flags given on the command line, so that
	// "given but empty" can be told from "not given".
	given map[string]bool
	// redisTLSCAFile is --redis-tls-ca-file: the CAs trusted for rediss://.
	redisTLSCAFile string
}

// fromFile reports whether the jobs come from --file rather than from flags.
func (o *options) fromFile() bool { return o.given["file"] }

// drains reports whether the command queues drains (--all-groups), one per
// load balancer, rather than detach jobs.
func (o *options) drains() bool { return o.allGroups }

// lbList is --lb: repeatable, each value a comma-separated list of IDs. Empty
// elements are kept, so that validation reports them ("a,,b").
type lbList []string

func (l *lbList) String() string { return strings.Join(*l, ",") }

func (l *lbList) Set(v string) error {
	for id := range strings.SplitSeq(v, ",") {
		*l = append(*l, strings.TrimSpace(id))
	}
	return nil
}

// envLookup reads an environment variable; tests of run replace it.
type envLookup func(string) (string, bool)

func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// usageHeader opens the -h text; the flags follow.
const usageHeader = `Usage:
  enqueue --group ID --lb ID[,ID...] [--lb ID] [--token T] [--region R] [--force] [--async]
          [--at TIME | --in D] [--queue Q] [--redis-url URL] [--wait [--wait-timeout D]]
  enqueue --file F [--region R] [--at TIME | --in D] [--queue Q] [--redis-url URL] [--wait [--wait-timeout D]]
  enqueue --lb ID[,ID...] --all-groups [--region R] [--force] [--async] [--token T]
          [--at TIME | --in D] [--queue Q] [--redis-url URL] [--wait [--wait-timeout D]]

Queues ESS DetachLoadBalancers jobs for the essworker workers and prints one JSON
line per job. Exit status: 0 all queued (and with --wait, all completed), 1 a job
failed, the wait timed out or Redis is unreachable, 2 bad input (nothing queued).

Flags:
`

// newFlagSet declares the flags into o. Its output is discarded: run reports
// errors itself, and -h prints usage to standard output.
func newFlagSet(o *options, env envLookup) *flag.FlagSet {
	fs := flag.NewFlagSet("enqueue", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	redisURL := defaultRedisURL
	if v, ok := env(redisURLEnv); ok && v != "" {
		redisURL = v
	}
	fs.StringVar(&o.redisURL, "redis-url", redisURL, "Redis `URL`: redis://, rediss:// or redis-sentinel:// ["+redisURLEnv+"]")
	fs.StringVar(&o.group, "group", "", "scaling group `ID` to detach from")
	fs.Var(&o.lbs, "lb", "load balancer `ID`s to detach: repeat the flag or separate with commas; more than 5 are split into jobs of 5")
	fs.BoolVar(&o.force, "force", false, "ForceDetach: also take the group's instances out of the load balancers")
	fs.BoolVar(&o.async, "async", false, "Async: ESS runs the detach as a scaling activity, which the worker follows")
	fs.StringVar(&o.token, "token", "", "ClientToken `T` (printable ASCII, at most 64 characters); default a random UUID. The same token again is a duplicate, not a second detach")
	fs.StringVar(&o.region, "region", "", "RegionId `R` (default: the worker's region); with --file, the region of lines that name none")
	fs.StringVar(&o.queue, "queue", defaultQueue, "asynq queue `Q` to put the jobs in")
	fs.StringVar(&o.file, "file", "", "read requests from `F`, JSON Lines of payloads (- for standard input), instead of --group/--lb")
	fs.StringVar(&o.at, "at", "", "run the jobs no earlier than `TIME`, RFC 3339 such as 2026-12-02T03:00:00Z (rounded up to a whole second; at most 30 days ahead)")
	fs.DurationVar(&o.in, "in", 0, "run the jobs no earlier than `D` from now, such as 90m (at most 30 days)")
	fs.BoolVar(&o.allGroups, "all-groups", false, "drain: detach each --lb from every scaling group of the region that holds it (one ess:drain_load_balancer job per load balancer)")
	fs.BoolVar(&o.wait, "wait", false, "wait for every job to end and print its outcome")
	fs.DurationVar(&o.waitTimeout, "wait-timeout", defaultWaitTimeout, "with --wait, stop waiting after `D` for all jobs together, counted from when the last is queued, or from their --at/--in time when later")
	caFile, _ := env(redisTLSCAFileEnv)
	fs.StringVar(&o.redisTLSCAFile, "redis-tls-ca-file", caFile, "PEM `FILE` of the CAs trusted for a rediss:// Redis (default: the system roots) ["+redisTLSCAFileEnv+"]")
	return fs
}

// writeUsage prints the -h text.
func writeUsage(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	b.WriteString(usageHeader)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString("\n    \t" + usage)
		def := f.DefValue
		if f.Name == "redis-url" {
			def = redisconn.RedactURL(def) // the default may come from REDIS_URL, password and all
		}
		if def != "" && def != "false" && def != "0s" {
			fmt.Fprintf(&b, " (default %s)", def)
		}
		b.WriteString("\n")
	})
	_, _ = io.WriteString(w, b.String())
}

// usageHint ends the errors of a misused command line.
const usageHint = " (see enqueue -h)"

// parseFlags parses args and checks what can be checked without reading
// --file: which flags go together, and values that are not a payload field.
// The payload fields themselves are validated in one place, by the tasks
// package (see loadRequests). It returns flag.ErrHelp for -h and --help.
func parseFlags(args []string, env envLookup, stdout io.Writer) (*options, error) {
	o := &options{given: map[string]bool{}}
	fs := newFlagSet(o, env)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(stdout, fs)
			return nil, err
		}
		return nil, fmt.Errorf("%w%s", err, usageHint)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: enqueue takes flags only%s", fs.Arg(0), usageHint)
	}
	fs.Visit(func(f *flag.Flag) { o.given[f.Name] = true })
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// check is the validation of flag combinations and of the flags that are not
// payload fields.
func (o *options) check() error {
	if o.drains() {
		return o.checkDrains()
	}
	if o.fromFile() {
		for _, name := range []string{"group", "lb"} {
			if o.given[name] {
				return fmt.Errorf("--file and --%s: give either --file or --group/--lb, not both", name)
			}
		}
		if o.given["token"] {
			return errors.New("--token: not allowed with --file: set ClientToken on each line")
		}
		if o.given["force"] {
			return errors.New("--force: not allowed with --file: set ForceDetach on each line")
		}
		if o.given["async"] {
			return errors.New("--async: not allowed with --file: set Async on each line")
		}
		if o.file == "" {
			return errors.New("--file: empty: give a file name, or - for standard input")
		}
	} else {
		if !o.given["group"] && !o.given["lb"] {
			return errors.New("no job given: use --group and --lb, or --file" + usageHint)
		}
		if o.group == "" {
			return errors.New("--group: required")
		}
		if len(o.lbs) == 0 {
			return errors.New("--lb: required")
		}
		if o.given["token"] && o.token == "" {
			return errors.New("--token: empty: give a token, or leave the flag out for a random one")
		}
	}
	return o.checkCommon()
}

// checkDrains is check for --all-groups: one drain per --lb, no group, no file.
func (o *options) checkDrains() error {
	for _, name := range []string{"group", "file"} {
		if o.given[name] {
			return fmt.Errorf("--all-groups and --%s: a drain takes the load balancer out of every group of the region; give --lb only", name)
		}
	}
	if len(o.lbs) == 0 {
		return errors.New("--lb: required with --all-groups")
	}
	if o.given["token"] {
		if o.token == "" {
			return errors.New("--token: empty: give a token, or leave the flag out for a random one")
		}
		if len(o.lbs) > 1 {
			return fmt.Errorf("--token: one token names one drain, and --lb gives %d load balancers: drain them one at a time, or leave --token out", len(o.lbs))
		}
	}
	return o.checkCommon()
}

// checkCommon checks the flags every form takes.
func (o *options) checkCommon() error {
	if o.queue == "" || strings.ContainsFunc(o.queue, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("--queue: %q is not a queue name (non-empty, no spaces)", o.queue)
	}
	if o.waitTimeout <= 0 {
		return fmt.Errorf("--wait-timeout: must be positive, got %v", o.waitTimeout)
	}
	return o.checkSchedule(time.Now())
}

// checkSchedule sets o.schedule from --at or --in, taken as of now.
func (o *options) checkSchedule(now time.Time) error {
	var err error
	switch {
	case o.given["at"] && o.given["in"]:
		return errors.New("--at and --in: give one of them, not both")
	case o.given["at"]:
		at, perr := time.Parse(time.RFC3339, o.at)
		if perr != nil {
			return fmt.Errorf("--at: %q is not an RFC 3339 time such as 2026-12-02T03:00:00Z", o.at)
		}
		if o.schedule, err = tasks.ScheduleAt(at, now); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	case o.given["in"]:
		if o.schedule, err = tasks.ScheduleIn(o.in, now); err != nil {
			return fmt.Errorf("--in: %w", err)
		}
	}
	return nil
}
