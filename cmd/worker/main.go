package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"essworker/internal/worker"
)

func main() {
	os.Exit(run(os.Args[1:], osEnv, os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs explicit. Exit codes: 0 after a clean
// shutdown, 1 when the worker cannot start or fails, 2 on bad flags.
func run(args []string, env envLookup, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		err = o.cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "worker:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if o.demo {
		err = runDemo(ctx, o.cfg, stdout, stderr)
	} else {
		err = runWorker(ctx, o.cfg, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "worker:", err)
		return 1
	}
	return 0
}

func runWorker(ctx context.Context, cfg worker.Config, stderr io.Writer) error {
	log := worker.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	redis.SetLogger(worker.RedisLogger{L: log})
	w, err := worker.New(ctx, cfg, nil, log)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}
