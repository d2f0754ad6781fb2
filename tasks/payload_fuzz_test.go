package tasks

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeDetachPayload: DecodeDetachPayload never panics; what it rejects
// is an ErrInvalidPayload; what it accepts passes Validate, means the same to
// the lenient encoding/json, and survives a re-encode unchanged.
func FuzzDecodeDetachPayload(f *testing.F) {
	for _, seed := range []string{
		`{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-bp1ffogfdauy0jw0xxxx","LoadBalancerIds":["lb-2zeur05gfsxxxx"],"ForceDetach":false,"Async":true,"ClientToken":"4f8e2c1a-9d3b-4c57-8e61-2b7f0a9c1d44"}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e"]}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e","f"]}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerId":["lb-1"]}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"Async":"yes"}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]} x`,
		`{"ScalingGroupId":"a\u0073g","LoadBalancerIds":["lb-1",null],"ClientToken":null}`,
		`{"ScalingGroupId":"asg-1","ScalingGroupId":"asg-2","LoadBalancerIds":["lb-1"]}`,
		`[]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeDetachPayload(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error %v does not wrap ErrInvalidPayload", err)
			}
			if !reflect.DeepEqual(p, DetachPayload{}) {
				t.Fatalf("non-zero payload %+v with error %v", p, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted %q but Validate says %v", b, err)
		}
		var lenient DetachPayload
		if err := json.Unmarshal(b, &lenient); err != nil || !reflect.DeepEqual(lenient, p) {
			t.Fatalf("accepted %q as %+v; encoding/json reads %+v (%v)", b, p, lenient, err)
		}
		enc, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeDetachPayload(enc)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", enc, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip: %+v became %+v", p, again)
		}
	})
}
