package tasks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"essworker/internal/esslimits"
)

// Limits of the payload, from the ESS API (DetachLoadBalancers).
const (
	// MaxLoadBalancers is the most load balancers one job (one ESS call) detaches.
	// SplitDetach and Enqueue cut longer lists into jobs of this size.
	MaxLoadBalancers = esslimits.LoadBalancersPerCall
	// MaxClientTokenLen is the longest ClientToken ESS accepts, in characters.
	MaxClientTokenLen = 64
)

// MaxPayloadSize bounds what DecodeDetachPayload and DecodeDetachRequest
// read, in bytes: a valid payload is far smaller (a few IDs and a token), so
// anything bigger is not one. Producers (the enqueue command's lines, the
// producer API's request bodies) take the same limit.
const MaxPayloadSize = 64 << 10

// DetachPayload is the task payload: one DetachLoadBalancers request, in JSON
// with ESS's own parameter names.
type DetachPayload struct {
	// RegionId is the region of the scaling group, e.g. "cn-hangzhou".
	// Optional: empty means the worker's default region.
	RegionId string `json:"RegionId,omitempty"`
	// ScalingGroupId is the group to detach from. Required.
	ScalingGroupId string `json:"ScalingGroupId"`
	// LoadBalancerIds are the load balancers to detach: 1 to MaxLoadBalancers
	// distinct IDs per job.
	LoadBalancerIds []string `json:"LoadBalancerIds"`
	// ForceDetach also takes the group's ECS instances out of the load
	// balancers' backend servers. Default false.
	ForceDetach bool `json:"ForceDetach"`
	// Async asks ESS to run the detach as a scaling activity, which the worker
	// then follows to its end. Default false.
	Async bool `json:"Async"`
	// ClientToken makes the ESS call idempotent: every attempt of the job sends
	// it. Printable ASCII, at most MaxClientTokenLen characters. Optional in a
	// payload (the worker then uses the asynq task ID); NewDetachLoadBalancersTask,
	// SplitDetach and Enqueue always set one.
	ClientToken string `json:"ClientToken,omitempty"`
}

// DecodeDetachPayload decodes a task payload strictly and validates it.
//
// Strict means: the payload is one JSON object and nothing else; every key is
// one of DetachPayload's field names, spelled with ESS's exact case, at most
// once; every value has the field's JSON type (null counts as absent). So a
// typo such as "LoadBalancerId" is an error that names it, never a field
// silently left at its zero value. Every error wraps ErrInvalidPayload; errors
// about one field are a *FieldError.
func DecodeDetachPayload(b []byte) (DetachPayload, error) {
	p, err := decodeStrict(b)
	if err != nil {
		return DetachPayload{}, err
	}
	if err := p.Validate(); err != nil {
		return DetachPayload{}, err
	}
	return p, nil
}

// DecodeDetachRequest decodes one detach request as a producer takes it:
// as strictly as DecodeDetachPayload, validated as SplitDetach validates, so
// it may name more than MaxLoadBalancers load balancers (all distinct).
// Errors wrap ErrInvalidPayload; errors about one field are a *FieldError.
func DecodeDetachRequest(b []byte) (DetachPayload, error) {
	p, err := decodeStrict(b)
	if err != nil {
		return DetachPayload{}, err
	}
	if err := p.validate(false); err != nil {
		return DetachPayload{}, err
	}
	return p, nil
}

// decodeStrict is DecodeDetachPayload without the validation, so that
// DecodeDetachRequest can validate with the split-later rules instead.
func decodeStrict(b []byte) (DetachPayload, error) {
	var p DetachPayload
	if err := decodeObject(b, p.setField); err != nil {
		return DetachPayload{}, err
	}
	return p, nil
}

// decodeObject reads b as one JSON object and hands each key and value to
// setField, refusing what strict decoding refuses: more than MaxPayloadSize
// bytes, anything but one object, a key given twice, trailing data.
func decodeObject(b []byte, setField func(key string, raw json.RawMessage) error) error {
	if len(b) > MaxPayloadSize {
		return payloadError(fmt.Sprintf("larger than %d bytes (got %d)", MaxPayloadSize, len(b)))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return payloadError("empty")
	}
	seen := make(map[string]bool, 6)
	visit := func(key string, raw json.RawMessage) error {
		if seen[key] {
			return &FieldError{Field: key, Reason: "given more than once"}
		}
		seen[key] = true
		return setField(key, raw)
	}
	if done, err := eachMember(b, visit); done {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return payloadError(malformed(err))
	}
	if tok != json.Delim('{') {
		return payloadError("must be a JSON object, got " + jsonKind(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return payloadError(malformed(err))
		}
		key, _ := tok.(string) // in key position the decoder yields strings only
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return payloadError(malformed(err))
		}
		if err := visit(key, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return payloadError(malformed(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return payloadError("trailing data after the JSON object")
	}
	return nil
}

// setField decodes one value into the field whose JSON name is key.
func (p *DetachPayload) setField(key string, raw json.RawMessage) error {
	switch key {
	case "RegionId":
		return decodeString(key, raw, &p.RegionId)
	case "ScalingGroupId":
		return decodeString(key, raw, &p.ScalingGroupId)
	case "ClientToken":
		return decodeString(key, raw, &p.ClientToken)
	case "ForceDetach":
		return decodeBool(key, raw, &p.ForceDetach)
	case "Async":
		return decodeBool(key, raw, &p.Async)
	case "LoadBalancerIds":
		return decodeStrings(key, raw, &p.LoadBalancerIds)
	default:
		return &FieldError{Field: key, Reason: "unknown field"}
	}
}

func decodeString(field string, raw json.RawMessage, dst *string) error {
	switch kind := rawKind(raw); kind {
	case "null":
		return nil
	case "string":
		if s, ok := plainString(raw); ok {
			*dst = s
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return &FieldError{Field: field, Reason: malformed(err)}
		}
		return nil
	default:
		return &FieldError{Field: field, Reason: "must be a string, got " + kind}
	}
}

// plainString returns the string of the JSON string literal raw when it has
// no escape and is valid UTF-8, which is what encoding/json would decode,
// without its reflection; ok is false for any other raw.
func plainString(raw json.RawMessage) (s string, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

func decodeBool(field string, raw json.RawMessage, dst *bool) error {
	switch kind := rawKind(raw); kind {
	case "null":
		return nil
	case "boolean":
		*dst = raw[0] == 't'
		return nil
	default:
		return &FieldError{Field: field, Reason: "must be a boolean (true or false), got " + kind}
	}
}

func decodeStrings(field string, raw json.RawMessage, dst *[]string) error {
	switch kind := rawKind(raw); kind {
	case "null":
		return nil
	case "array":
	default:
		return &FieldError{Field: field, Reason: "must be an array of strings, got " + kind}
	}
	elems := arrayElements(raw) // raw is valid: eachMember or the Decoder checked it
	out := make([]string, len(elems))
	for i, e := range elems {
		if kind := rawKind(e); kind != "string" {
			return &FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Reason: "must be a string, got " + kind}
		}
		if err := decodeString(field, e, &out[i]); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				fe.Field = fmt.Sprintf("%s[%d]", field, i)
			}
			return err
		}
	}
	*dst = out
	return nil
}

// rawKind names the JSON type of a syntactically valid value by its first byte.
func rawKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '[':
		return "array"
	case '{':
		return "object"
	default:
		return "number"
	}
}

// jsonKind names the JSON type of the first token of a document.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('[') {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	default:
		return "number"
	}
}

// malformed describes a JSON syntax error without echoing the input.
func malformed(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: unexpected end of input"
	}
	return "malformed JSON: " + err.Error()
}
