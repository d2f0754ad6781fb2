package tasks

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestTaskID(t *testing.T) {
	t.Parallel()
	if got, want := TaskID("tok-1"), "detach:tok-1"; got != want {
		t.Errorf("TaskID = %q, want %q", got, want)
	}
	if TaskID("a") == TaskID("b") {
		t.Error("different tokens gave the same task ID")
	}
}

func TestNewDetachLoadBalancersTask(t *testing.T) {
	t.Parallel()
	p := contractPayload()
	task, err := NewDetachLoadBalancersTask(p)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeDetachLoadBalancers {
		t.Errorf("Type = %q, want %q", task.Type(), TypeDetachLoadBalancers)
	}
	got, err := DecodeDetachPayload(task.Payload())
	if err != nil {
		t.Fatalf("payload %s does not decode: %v", task.Payload(), err)
	}
	if got.ClientToken != p.ClientToken || got.ScalingGroupId != p.ScalingGroupId ||
		strings.Join(got.LoadBalancerIds, ",") != strings.Join(p.LoadBalancerIds, ",") ||
		got.RegionId != p.RegionId || got.Async != p.Async || got.ForceDetach != p.ForceDetach {
		t.Errorf("payload round trip: got %+v, want %+v", got, p)
	}
}

func TestNewDetachLoadBalancersTaskGeneratesToken(t *testing.T) {
	t.Parallel()
	p := contractPayload()
	p.ClientToken = ""
	seen := map[string]bool{}
	for range 3 {
		task, err := NewDetachLoadBalancersTask(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeDetachPayload(task.Payload())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := uuid.Parse(got.ClientToken); err != nil {
			t.Fatalf("generated ClientToken %q is not a UUID: %v", got.ClientToken, err)
		}
		if seen[got.ClientToken] {
			t.Fatalf("generated ClientToken %q twice", got.ClientToken)
		}
		seen[got.ClientToken] = true
	}
	if p.ClientToken != "" {
		t.Error("the caller's payload was changed")
	}
}

func TestNewDetachLoadBalancersTaskInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(p *DetachPayload)
		field  string
	}{
		{"no group", func(p *DetachPayload) { p.ScalingGroupId = "" }, "ScalingGroupId"},
		{"no load balancers", func(p *DetachPayload) { p.LoadBalancerIds = nil }, "LoadBalancerIds"},
		{"more than five", func(p *DetachPayload) { p.LoadBalancerIds = lbIDs(6) }, "LoadBalancerIds"},
		{"token too long", func(p *DetachPayload) { p.ClientToken = strings.Repeat("x", MaxClientTokenLen+1) }, "ClientToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := contractPayload()
			tc.change(&p)
			task, err := NewDetachLoadBalancersTask(p)
			if task != nil {
				t.Errorf("got a task %v with the error", task)
			}
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error %v does not wrap ErrInvalidPayload", err)
			}
			wantFieldError(t, err, tc.field, "")
		})
	}
}
