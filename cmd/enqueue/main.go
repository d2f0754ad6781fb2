package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"

	"essworker/internal/redisconn"
	"essworker/tasks"
)

// Exit statuses, part of the command's contract.
const (
	exitOK       = 0 // all queued (or already queued); with --wait, all completed
	exitFailed   = 1 // a job was archived, the wait timed out, or Redis failed
	exitBadInput = 2 // bad flags or requests; nothing was queued
)

func main() {
	// go-redis logs each failed dial to stderr; run reports Redis errors itself,
	// once, in the command's own words.
	logging.Disable()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], osEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main with its inputs and outputs explicit; it returns the exit status.
func run(ctx context.Context, args []string, env envLookup, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, env, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var reqs []request
	var drains []tasks.DrainPayload
	switch {
	case err == nil && o.drains():
		drains, err = loadDrains(o)
	case err == nil:
		reqs, err = loadRequests(o, stdin)
	}
	// One go-redis client, from the URL parsed as asynq parses it, serves the
	// check, the asynq client and the inspector.
	var rdb redis.UniversalClient
	if err == nil {
		_, rdb, err = redisconn.Open(o.redisURL, redisconn.Options{TLSCAFile: o.redisTLSCAFile})
	}
	if err != nil {
		report(stderr, err)
		return exitBadInput
	}
	defer rdb.Close()
	redact := func(text string) string { return redisconn.RedactPassword(text, o.redisURL) }

	if err := redisconn.Check(ctx, rdb, o.redisURL); err != nil {
		report(stderr, fmt.Errorf("%w; nothing was queued", err))
		return exitFailed
	}

	out := newOutput(stdout)
	producer := tasks.NewProducer(rdb)
	if o.drains() {
		return runDrains(ctx, producer, drains, o, out, stderr, redact)
	}
	jobs, err := enqueueAll(ctx, producer, reqs, o.queue, o.schedule, out)
	if errors.Is(err, tasks.ErrIdempotencyConflict) && len(jobs) == 0 {
		report(stderr, err)
		return exitBadInput
	}
	if err != nil {
		report(stderr, errors.New(redact(err.Error())))
		if len(reqs) == 1 && reqs[0].n == 0 {
			report(stderr, fmt.Errorf("to finish this request without queueing any job twice, run the same command with --token %s", reqs[0].payload.ClientToken))
		}
		return exitFailed
	}
	ok := true
	if o.wait {
		ok = waitAll(ctx, producer.Inspector(), jobs, waitBudget(o.waitTimeout, o.schedule, time.Now()), out)
	}
	return exitCode(out, ok, stderr)
}

// exitCode is the exit status once everything is queued (and, with --wait,
// waited for): exitFailed when standard output could not be written, which it
// reports, or when ok is false; else exitOK.
func exitCode(out *output, ok bool, stderr io.Writer) int {
	if out.err != nil {
		report(stderr, fmt.Errorf("write standard output: %w", out.err))
		return exitFailed
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}

// runDrains is run for --all-groups, from the queueing on.
func runDrains(ctx context.Context, producer *tasks.Producer, drains []tasks.DrainPayload, o *options, out *output, stderr io.Writer, redact func(string) string) int {
	queued, err := enqueueDrains(ctx, producer, drains, o.queue, o.schedule, out)
	if errors.Is(err, tasks.ErrIdempotencyConflict) && len(queued) == 0 {
		report(stderr, err)
		return exitBadInput
	}
	if err != nil {
		report(stderr, errors.New(redact(err.Error())))
		return exitFailed
	}
	ok := true
	if o.wait {
		ok = waitDrains(ctx, producer.Inspector(), queued, waitBudget(o.waitTimeout, o.schedule, time.Now()), out)
	}
	return exitCode(out, ok, stderr)
}

// enqueueAll queues the requests with tasks.Producer, which checks every job
// of every request for duplicates and conflicts before it queues any, and
// prints one line per job. After a Redis failure midway it prints the jobs
// queued so far and returns the error.
func enqueueAll(ctx context.Context, p *tasks.Producer, reqs []request, queue string, s tasks.Schedule, out *output) ([]tasks.EnqueueResult, error) {
	payloads := make([]tasks.DetachPayload, len(reqs))
	for i, r := range reqs {
		payloads[i] = r.payload
	}
	jobs, err := p.EnqueueAt(ctx, queue, s, payloads...)
	for _, job := range jobs {
		out.line(job)
	}
	if errors.Is(err, tasks.ErrIdempotencyConflict) && len(jobs) == 0 {
		return nil, fmt.Errorf("%w; nothing was queued", err)
	}
	if err != nil {
		return jobs, fmt.Errorf("%w; the %d jobs printed before this error are queued", err, len(jobs))
	}
	return jobs, nil
}

// report writes err to stderr, one "enqueue: " line per line of its text
// (errors.Join puts each bad --file line on its own).
func report(stderr io.Writer, err error) {
	for l := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintln(stderr, "enqueue:", l)
	}
}
