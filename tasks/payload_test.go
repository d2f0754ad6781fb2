package tasks

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// contractPayload returns a payload that passes Validate; tests change one field.
func contractPayload() DetachPayload {
	return DetachPayload{
		RegionId:        "cn-hangzhou",
		ScalingGroupId:  "asg-bp1ffogfdauy0jw0xxxx",
		LoadBalancerIds: []string{"lb-2zeur05gfsxxxx"},
		Async:           true,
		ClientToken:     "4f8e2c1a-9d3b-4c57-8e61-2b7f0a9c1d44",
	}
}

func lbIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "lb-" + string(rune('a'+i))
	}
	return ids
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(p *DetachPayload)
		field   string // "" means valid
		wantMsg string // full error text, when checked
	}{
		{name: "valid", change: func(p *DetachPayload) {}},
		{name: "valid minimal", change: func(p *DetachPayload) { *p = DetachPayload{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}} }},
		{name: "valid five", change: func(p *DetachPayload) { p.LoadBalancerIds = lbIDs(5) }},
		{name: "valid region with digit", change: func(p *DetachPayload) { p.RegionId = "ap-southeast-1" }},
		{name: "valid token 64", change: func(p *DetachPayload) { p.ClientToken = strings.Repeat("t", 64) }},
		{name: "valid token punctuation", change: func(p *DetachPayload) { p.ClientToken = "a!#$%&'()*+,-./:;<=>?@[]^_`{|}~" }},
		{name: "valid force", change: func(p *DetachPayload) { p.ForceDetach, p.Async = true, false }},

		{name: "region upper case", change: func(p *DetachPayload) { p.RegionId = "CN-Hangzhou" }, field: "RegionId"},
		{name: "region space", change: func(p *DetachPayload) { p.RegionId = "cn hangzhou" }, field: "RegionId"},
		{name: "region trailing dash", change: func(p *DetachPayload) { p.RegionId = "cn-" }, field: "RegionId"},
		{name: "region double dash", change: func(p *DetachPayload) { p.RegionId = "cn--hangzhou" }, field: "RegionId"},
		{name: "region leading digit", change: func(p *DetachPayload) { p.RegionId = "1cn" }, field: "RegionId"},
		{name: "region too long", change: func(p *DetachPayload) { p.RegionId = strings.Repeat("a", 65) }, field: "RegionId"},

		{name: "group missing", change: func(p *DetachPayload) { p.ScalingGroupId = "" }, field: "ScalingGroupId",
			wantMsg: "invalid payload: ScalingGroupId: required"},
		{name: "group space", change: func(p *DetachPayload) { p.ScalingGroupId = "asg 1" }, field: "ScalingGroupId"},
		{name: "group non-ASCII", change: func(p *DetachPayload) { p.ScalingGroupId = "asg-ü" }, field: "ScalingGroupId"},
		{name: "group too long", change: func(p *DetachPayload) { p.ScalingGroupId = strings.Repeat("g", 129) }, field: "ScalingGroupId"},

		{name: "lbs nil", change: func(p *DetachPayload) { p.LoadBalancerIds = nil }, field: "LoadBalancerIds"},
		{name: "lbs empty", change: func(p *DetachPayload) { p.LoadBalancerIds = []string{} }, field: "LoadBalancerIds"},
		{name: "lbs seven", change: func(p *DetachPayload) { p.LoadBalancerIds = lbIDs(7) }, field: "LoadBalancerIds",
			wantMsg: "invalid payload: LoadBalancerIds: more than 5 (got 7)"},
		{name: "lb empty", change: func(p *DetachPayload) { p.LoadBalancerIds = []string{"lb-a", "lb-b", ""} }, field: "LoadBalancerIds[2]",
			wantMsg: "invalid payload: LoadBalancerIds[2]: empty"},
		{name: "lb duplicate", change: func(p *DetachPayload) { p.LoadBalancerIds = []string{"lb-a", "lb-b", "lb-a"} }, field: "LoadBalancerIds[2]",
			wantMsg: `invalid payload: LoadBalancerIds[2]: duplicate of LoadBalancerIds[0] ("lb-a")`},
		{name: "lb tab", change: func(p *DetachPayload) { p.LoadBalancerIds = []string{"lb-a\t"} }, field: "LoadBalancerIds[0]"},
		{name: "lb too long", change: func(p *DetachPayload) { p.LoadBalancerIds = []string{strings.Repeat("l", 129)} }, field: "LoadBalancerIds[0]"},

		{name: "token 65", change: func(p *DetachPayload) { p.ClientToken = strings.Repeat("t", 65) }, field: "ClientToken",
			wantMsg: "invalid payload: ClientToken: longer than 64 characters (got 65)"},
		{name: "token non-ASCII", change: func(p *DetachPayload) { p.ClientToken = "tökén" }, field: "ClientToken"},
		{name: "token space", change: func(p *DetachPayload) { p.ClientToken = "a b" }, field: "ClientToken"},
		{name: "token control", change: func(p *DetachPayload) { p.ClientToken = "a\x7f" }, field: "ClientToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := contractPayload()
			tc.change(&p)
			err := p.Validate()
			wantFieldError(t, err, tc.field, tc.wantMsg)
		})
	}
}

// wantFieldError checks that err is nil when field is "", and otherwise a
// *FieldError for field that wraps ErrInvalidPayload and names the field.
func wantFieldError(t *testing.T, err error, field, wantMsg string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want one for %s", field)
	}
	if !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("errors.Is(%v, ErrInvalidPayload) = false", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != field {
		t.Errorf("Field = %q, want %q (error: %v)", fe.Field, field, err)
	}
	if !strings.Contains(err.Error(), field) {
		t.Errorf("error %q does not name %s", err, field)
	}
	if wantMsg != "" && err.Error() != wantMsg {
		t.Errorf("error = %q, want %q", err, wantMsg)
	}
}

func TestDecodeDetachPayload(t *testing.T) {
	t.Parallel()
	const good = `{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-bp1ffogfdauy0jw0xxxx",
 "LoadBalancerIds":["lb-2zeur05gfsxxxx"],"ForceDetach":false,"Async":true,
 "ClientToken":"4f8e2c1a-9d3b-4c57-8e61-2b7f0a9c1d44"}`
	tests := []struct {
		name    string
		in      string
		want    DetachPayload // when valid
		field   string        // "" and wantErr false means valid
		wantErr string        // substring of the error, when checked
	}{
		{name: "design example", in: good, want: contractPayload()},
		{name: "minimal", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`,
			want: DetachPayload{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}}},
		{name: "surrounding whitespace", in: " \n\t{\"ScalingGroupId\":\"asg-1\",\"LoadBalancerIds\":[\"lb-1\"]}\r\n ",
			want: DetachPayload{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}}},
		{name: "nulls are absent", in: `{"RegionId":null,"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ForceDetach":null,"Async":null,"ClientToken":null}`,
			want: DetachPayload{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}}},
		{name: "escaped strings", in: `{"ScalingGroupId":"asg\u002d1","LoadBalancerIds":["lb\/1"],"ForceDetach":true}`,
			want: DetachPayload{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb/1"}, ForceDetach: true}},

		{name: "unknown field typo", in: `{"ScalingGroupId":"asg-1","LoadBalancerId":["lb-1"]}`, field: "LoadBalancerId",
			wantErr: "invalid payload: LoadBalancerId: unknown field"},
		{name: "wrong case", in: `{"scalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`, field: "scalingGroupId"},
		{name: "async string", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"Async":"yes"}`, field: "Async",
			wantErr: "invalid payload: Async: must be a boolean (true or false), got string"},
		{name: "force number", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ForceDetach":1}`, field: "ForceDetach"},
		{name: "group number", in: `{"ScalingGroupId":42,"LoadBalancerIds":["lb-1"]}`, field: "ScalingGroupId",
			wantErr: "invalid payload: ScalingGroupId: must be a string, got number"},
		{name: "region object", in: `{"RegionId":{},"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`, field: "RegionId"},
		{name: "token bool", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":true}`, field: "ClientToken"},
		{name: "lbs string", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":"lb-1"}`, field: "LoadBalancerIds",
			wantErr: "invalid payload: LoadBalancerIds: must be an array of strings, got string"},
		{name: "lb element number", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1",2]}`, field: "LoadBalancerIds[1]"},
		{name: "lb element null", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":[null]}`, field: "LoadBalancerIds[0]"},
		{name: "duplicate key", in: `{"ScalingGroupId":"asg-1","ScalingGroupId":"asg-2","LoadBalancerIds":["lb-1"]}`, field: "ScalingGroupId",
			wantErr: "given more than once"},
		{name: "lbs null", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":null}`, field: "LoadBalancerIds"},
		{name: "group missing", in: `{"LoadBalancerIds":["lb-1"]}`, field: "ScalingGroupId",
			wantErr: "invalid payload: ScalingGroupId: required"},
		{name: "validation after decode", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e","f","g"]}`, field: "LoadBalancerIds",
			wantErr: "invalid payload: LoadBalancerIds: more than 5 (got 7)"},
		{name: "invalid UTF-8 in token", in: "{\"ScalingGroupId\":\"asg-1\",\"LoadBalancerIds\":[\"lb-1\"],\"ClientToken\":\"\xff\"}", field: "ClientToken"},

		{name: "trailing garbage", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]} x`, wantErr: "trailing data"},
		{name: "second object", in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}{}`, wantErr: "trailing data"},
		{name: "empty", in: "", wantErr: "invalid payload: empty"},
		{name: "blank", in: " \n", wantErr: "invalid payload: empty"},
		{name: "array", in: `[1]`, wantErr: "must be a JSON object, got array"},
		{name: "null document", in: `null`, wantErr: "must be a JSON object, got null"},
		{name: "string document", in: `"x"`, wantErr: "must be a JSON object, got string"},
		{name: "truncated", in: `{"ScalingGroupId":"asg-1",`, wantErr: "malformed JSON"},
		{name: "bad syntax", in: `{"ScalingGroupId" "asg-1"}`, wantErr: "malformed JSON"},
		{name: "too large", in: `{"ScalingGroupId":"` + strings.Repeat("a", MaxPayloadSize) + `"}`, wantErr: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeDetachPayload([]byte(tc.in))
			if tc.field == "" && tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v and no error, want an error", got)
			}
			if !errors.Is(err, ErrInvalidPayload) {
				t.Errorf("errors.Is(%v, ErrInvalidPayload) = false", err)
			}
			if !reflect.DeepEqual(got, DetachPayload{}) {
				t.Errorf("got %+v with the error, want the zero payload", got)
			}
			if tc.field != "" {
				wantFieldError(t, err, tc.field, "")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

// TestPayloadJSONNames pins the wire names: other languages produce them.
func TestPayloadJSONNames(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(contractPayload())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-bp1ffogfdauy0jw0xxxx","LoadBalancerIds":["lb-2zeur05gfsxxxx"],"ForceDetach":false,"Async":true,"ClientToken":"4f8e2c1a-9d3b-4c57-8e61-2b7f0a9c1d44"}`
	if string(b) != want {
		t.Fatalf("json.Marshal = %s\nwant          %s", b, want)
	}
	b, err = json.Marshal(DetachPayload{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ForceDetach":false,"Async":false}`; got != want {
		t.Fatalf("json.Marshal = %s, want %s", got, want)
	}
}

func TestFieldErrorText(t *testing.T) {
	t.Parallel()
	if got, want := (&FieldError{Field: "LoadBalancerIds", Reason: "more than 5 (got 7)"}).Error(),
		"invalid payload: LoadBalancerIds: more than 5 (got 7)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (&FieldError{Reason: "empty"}).Error(), "invalid payload: empty"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
