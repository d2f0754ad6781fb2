package tasks

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestSplitDetach(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		n     int
		sizes []int
	}{
		{"one", 1, []int{1}},
		{"five", 5, []int{5}},
		{"six", 6, []int{5, 1}},
		{"seven", 7, []int{5, 2}},
		{"ten", 10, []int{5, 5}},
		{"twelve", 12, []int{5, 5, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := contractPayload()
			p.LoadBalancerIds = lbIDs(tc.n)
			chunks, err := SplitDetach(p)
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			var all []string
			for _, c := range chunks {
				sizes = append(sizes, len(c.LoadBalancerIds))
				all = append(all, c.LoadBalancerIds...)
				if err := c.Validate(); err != nil {
					t.Errorf("chunk %+v invalid: %v", c, err)
				}
				if c.ScalingGroupId != p.ScalingGroupId || c.RegionId != p.RegionId || c.Async != p.Async || c.ForceDetach != p.ForceDetach {
					t.Errorf("chunk %+v lost fields of %+v", c, p)
				}
			}
			if !reflect.DeepEqual(sizes, tc.sizes) {
				t.Errorf("chunk sizes %v, want %v", sizes, tc.sizes)
			}
			if !reflect.DeepEqual(all, p.LoadBalancerIds) {
				t.Errorf("chunks hold %v, want %v in order", all, p.LoadBalancerIds)
			}
			if len(chunks) == 1 && chunks[0].ClientToken != p.ClientToken {
				t.Errorf("single chunk token %q, want the caller's %q", chunks[0].ClientToken, p.ClientToken)
			}
		})
	}
}

func TestSplitDetachTokens(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"req-1", strings.Repeat("~", MaxClientTokenLen), "a"} {
		p := contractPayload()
		p.ClientToken = token
		p.LoadBalancerIds = lbIDs(12)
		first, err := SplitDetach(p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := SplitDetach(p)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{token: true}
		for i, c := range first {
			if c.ClientToken != again[i].ClientToken {
				t.Errorf("token %q chunk %d: %q, then %q on a second split", token, i, c.ClientToken, again[i].ClientToken)
			}
			if c.ClientToken != ChunkToken(token, i) {
				t.Errorf("token %q chunk %d: %q, want ChunkToken = %q", token, i, c.ClientToken, ChunkToken(token, i))
			}
			if seen[c.ClientToken] {
				t.Errorf("token %q chunk %d: token %q not distinct", token, i, c.ClientToken)
			}
			seen[c.ClientToken] = true
			if err := validateChunkToken(c.ClientToken); err != nil {
				t.Errorf("token %q chunk %d: %v", token, i, err)
			}
		}
	}
	if ChunkToken("a", 0) == ChunkToken("b", 0) || ChunkToken("a", 0) == ChunkToken("a", 1) {
		t.Error("ChunkToken collides on different inputs")
	}
	// Pinned: changing the derivation would requeue already queued chunks.
	if got, want := ChunkToken("req-1", 0), uuid.NewSHA1(SplitNamespace, []byte("req-1:0")).String(); got != want {
		t.Errorf("ChunkToken = %q, want %q", got, want)
	}
}

// validateChunkToken fails for a token ESS would not take.
func validateChunkToken(s string) error {
	if len(s) == 0 || len(s) > MaxClientTokenLen {
		return errors.New("length out of range: " + s)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return errors.New("not printable ASCII: " + s)
		}
	}
	return nil
}

func TestSplitDetachGeneratesToken(t *testing.T) {
	t.Parallel()
	for _, n := range []int{3, 7} {
		p := contractPayload()
		p.ClientToken = ""
		p.LoadBalancerIds = lbIDs(n)
		a, err := SplitDetach(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := SplitDetach(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if err := validateChunkToken(a[i].ClientToken); err != nil {
				t.Error(err)
			}
			if a[i].ClientToken == b[i].ClientToken {
				t.Errorf("%d LBs without a token: two splits share token %q; each request needs its own", n, a[i].ClientToken)
			}
		}
	}
}

func TestSplitDetachDoesNotAlias(t *testing.T) {
	t.Parallel()
	p := contractPayload()
	p.LoadBalancerIds = lbIDs(7)
	chunks, err := SplitDetach(p)
	if err != nil {
		t.Fatal(err)
	}
	chunks[0].LoadBalancerIds[0] = "changed"
	if p.LoadBalancerIds[0] == "changed" {
		t.Error("chunk shares memory with the caller's slice")
	}
}

func TestSplitDetachInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(p *DetachPayload)
		field  string
	}{
		{"no group", func(p *DetachPayload) { p.ScalingGroupId = "" }, "ScalingGroupId"},
		{"no load balancers", func(p *DetachPayload) { p.LoadBalancerIds = nil }, "LoadBalancerIds"},
		{"duplicate across chunks", func(p *DetachPayload) { p.LoadBalancerIds = append(lbIDs(6), "lb-a") }, "LoadBalancerIds[6]"},
		{"empty in second chunk", func(p *DetachPayload) { p.LoadBalancerIds = append(lbIDs(6), "") }, "LoadBalancerIds[6]"},
		{"bad token", func(p *DetachPayload) { p.ClientToken = "no spaces please" }, "ClientToken"},
		{"bad region", func(p *DetachPayload) { p.RegionId = "Hangzhou" }, "RegionId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := contractPayload()
			tc.change(&p)
			chunks, err := SplitDetach(p)
			if chunks != nil {
				t.Errorf("got chunks %v with the error", chunks)
			}
			wantFieldError(t, err, tc.field, "")
		})
	}
}

func TestDecodeDetachRequest(t *testing.T) {
	t.Parallel()
	seven := `{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e","f","g"]}`
	p, err := DecodeDetachRequest([]byte(seven))
	if err != nil || len(p.LoadBalancerIds) != 7 {
		t.Fatalf("seven load balancers: %+v, %v; want them all", p, err)
	}
	if _, err := DecodeDetachPayload([]byte(seven)); err == nil {
		t.Fatal("DecodeDetachPayload took seven load balancers")
	}
	for in, field := range map[string]string{
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e","f","a"]}`: "LoadBalancerIds[6]",
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["a"],"Force":true}`:            "Force",
		`{"LoadBalancerIds":["a"]}`: "ScalingGroupId",
		`[1]`:                       "",
	} {
		_, err := DecodeDetachRequest([]byte(in))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: error %v, want a *FieldError on %q", in, err, field)
		}
	}
}
