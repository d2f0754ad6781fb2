package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hibiken/asynq"
)

// NewLogger returns the worker's slog logger for a validated Config.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // Validate has checked it
	opts := &slog.HandlerOptions{Level: l}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// asynqLogger sends asynq's own log lines to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq")
	os.Exit(1)
}

func asynqLevel(level string) asynq.LogLevel {
	switch level {
	case "debug":
		return asynq.DebugLevel
	case "warn":
		return asynq.WarnLevel
	case "error":
		return asynq.ErrorLevel
	default:
		return asynq.InfoLevel
	}
}

// RedisLogger sends go-redis's own log lines (failed dials, pool notices) to
// slog, so a JSON log stays JSON. Install it with redis.SetLogger.
type RedisLogger struct{ L *slog.Logger }

// Printf implements go-redis's logging interface.
func (r RedisLogger) Printf(_ context.Context, format string, args ...any) {
	r.L.Warn(fmt.Sprintf(format, args...), "component", "go-redis")
}
