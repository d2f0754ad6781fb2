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

	"essworker/internal/apiserver"
	"essworker/internal/worker"
)

// Exit statuses, part of the command's contract.
const (
	exitOK       = 0 // stopped by SIGTERM or SIGINT, requests in flight answered
	exitFailed   = 1 // Redis unreachable at start, or the server failed
	exitBadInput = 2 // bad flags or configuration
)

// installRedisLogger sends go-redis's own log lines to the API's logger. Only
// main sets it: the logger is process-wide, and tests run run in parallel.
var installRedisLogger bool

func main() {
	installRedisLogger = true
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], osEnv, os.Stderr, hup, nil)
	stop()
	os.Exit(code)
}

// run is main with its inputs explicit: it serves until ctx ends, rereads the
// tokens file on each value of hup, and returns the exit status. started, when
// not nil, is called with the server once it listens.
func run(ctx context.Context, args []string, env envLookup, stderr io.Writer, hup <-chan os.Signal, started func(*apiserver.Server)) int {
	cfg, err := parseFlags(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "api:", err)
		return exitBadInput
	}
	log := worker.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if installRedisLogger {
		redis.SetLogger(worker.RedisLogger{L: log})
	}
	srv, err := apiserver.New(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "api:", err)
		var fe *worker.FieldError
		if errors.As(err, &fe) {
			return exitBadInput
		}
		return exitFailed
	}
	if started != nil {
		started(srv)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if cfg.InsecureNoAuth {
					log.Warn("SIGHUP ignored: --insecure-no-auth reads no tokens file")
					continue
				}
				if err := srv.ReloadTokens(); err != nil {
					log.Error("tokens file not reloaded; the tokens in use stay", "error", err.Error())
				}
			}
		}
	}()
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "api:", err)
		return exitFailed
	}
	return exitOK
}
