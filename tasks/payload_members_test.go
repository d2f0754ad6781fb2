package tasks

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// member is one key and raw value of a JSON object.
type member struct {
	Key string
	Raw string
}

// decoderMembers is what encoding/json's Decoder yields for the object b, or
// ok false when b is not one valid JSON object.
func decoderMembers(b []byte) (out []member, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		out = append(out, member{tok.(string), string(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return out, true
}

// FuzzEachMember: for every valid JSON object, eachMember yields the members
// encoding/json's Decoder yields, byte for byte; it takes nothing else.
func FuzzEachMember(f *testing.F) {
	for _, seed := range []string{
		`{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1","lb-2"],"ForceDetach":false,"Async":true,"ClientToken":"t"}`,
		` { "a" : [ 1 , {"b":"}"} ] , "c\u0041" : null ,"d":-1.5e3, "e":"x\"y" } `,
		`{"a":1}{"b":2}`,
		`{"a":"\xff"}`,
		`{"\xff":1}`,
		`{}`,
		`[]`,
		`{"a":}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []member
		done, err := eachMember(b, func(key string, raw json.RawMessage) error {
			got = append(got, member{key, string(raw)})
			return nil
		})
		want, valid := decoderMembers(b)
		if done != valid || err != nil {
			t.Fatalf("eachMember(%q) = %v, %v; the Decoder reads a valid object: %v", b, done, err, valid)
		}
		if done && !reflect.DeepEqual(got, want) {
			t.Fatalf("eachMember(%q) yields %q, the Decoder %q", b, got, want)
		}
	})
}

// FuzzArrayElements: for every valid JSON array, arrayElements yields the
// elements json.Unmarshal yields into a []json.RawMessage, byte for byte.
func FuzzArrayElements(f *testing.F) {
	for _, seed := range []string{
		`["lb-1","lb-2"]`,
		` [ "a\"]" , [1,[2]] ,{"b":"]"}, null,true , -1.5e3 ] `,
		`[]`,
		`[ ]`,
		`["\u00e9\ud800"]`,
		`[1,]`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want []json.RawMessage
		if err := json.Unmarshal(b, &want); err != nil || rawKind(b) != "array" {
			return
		}
		got := arrayElements(b)
		if len(got) != len(want) {
			t.Fatalf("arrayElements(%q) yields %d elements, json.Unmarshal %d", b, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("arrayElements(%q)[%d] = %q, json.Unmarshal's %q", b, i, got[i], want[i])
			}
		}
	})
}
