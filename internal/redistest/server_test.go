package redistest_test

import (
	"context"
	"testing"

	"essworker/internal/redistest"
)

func TestStartServesAndRestartKeepsAOFData(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{AppendOnly: true, Password: "pw-redistest"})
	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Restart(t)
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("after restart GET k = %q, %v; want v", got, err)
	}
}

func TestPasswordRequired(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Password: "pw-redistest"})
	err := s.Client(t).Ping(context.Background()).Err()
	if err != nil {
		t.Fatalf("PING with password: %v", err)
	}
	noAuth := redistest.Server{Addr: s.Addr}
	if err := noAuth.Client(t).Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING without password succeeded; want NOAUTH")
	}
}
