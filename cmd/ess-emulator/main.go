package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"essworker/essclient/esstest"
)

// Defaults of the flags.
const (
	defaultAddr       = "127.0.0.1:8080"
	defaultLogFormat  = "json"
	shutdownTimeout   = 10 * time.Second
	readHeaderTimeout = 10 * time.Second
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// options are the parsed flags.
type options struct {
	addr             string
	statePath        string
	activityDuration time.Duration
	seed             int64
	logFormat        string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run is the program; it returns the exit code. Logs go to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ess-emulator: %v\n", err)
		return exitUsage
	}
	logger := newLogger(opts.logFormat, stderr)
	state, err := readState(opts.statePath)
	if err != nil {
		fmt.Fprintf(stderr, "ess-emulator: %v\n", err)
		return exitUsage
	}
	emu := esstest.New(esstest.Config{
		AccessKeys:       state.AccessKeys,
		ActivityDuration: opts.activityDuration,
		Seed:             opts.seed,
		Logger:           logger,
	})
	for _, g := range state.ScalingGroups {
		if err := emu.AddScalingGroup(g); err != nil { // LoadState validated them already
			fmt.Fprintf(stderr, "ess-emulator: %v\n", err)
			return exitUsage
		}
	}

	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		logger.Error("ess-emulator cannot listen", "addr", opts.addr, "err", err)
		return exitError
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: readHeaderTimeout}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("ess-emulator listening on http://"+ln.Addr().String(),
		"addr", ln.Addr().String(), "groups", len(state.ScalingGroups), "activity_duration", opts.activityDuration.String())

	select {
	case err := <-served:
		logger.Error("ess-emulator stopped serving", "err", err)
		return exitError
	case <-ctx.Done():
	}
	logger.Info("ess-emulator shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("ess-emulator shutdown", "err", err)
		return exitError
	}
	logger.Info("ess-emulator stopped")
	return exitOK
}

// parseFlags parses and validates the flags.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ess-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", defaultAddr, "listen address `HOST:PORT` (port 0: a free port)")
	fs.StringVar(&o.statePath, "state", "", "JSON state `FILE` with AccessKeys and ScalingGroups (required)")
	fs.DurationVar(&o.activityDuration, "activity-duration", esstest.DefaultActivityDuration, "how long an asynchronous activity stays InProgress")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the fault plan's randomness")
	fs.StringVar(&o.logFormat, "log-format", defaultLogFormat, "log format: json or text")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case o.statePath == "":
		return o, errors.New("--state FILE is required")
	case o.activityDuration <= 0:
		return o, fmt.Errorf("--activity-duration %v must be positive", o.activityDuration)
	case o.logFormat != "json" && o.logFormat != "text":
		return o, fmt.Errorf("--log-format %q must be json or text", o.logFormat)
	}
	return o, nil
}

func readState(path string) (esstest.State, error) {
	f, err := os.Open(path)
	if err != nil {
		return esstest.State{}, fmt.Errorf("--state: %w", err)
	}
	defer f.Close()
	st, err := esstest.LoadState(f)
	if err != nil {
		return esstest.State{}, fmt.Errorf("--state %s: %w", path, err)
	}
	return st, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}
