package tasks

import (
	"bytes"
	"encoding/json"
)

// eachMember hands each member of the JSON object b to visit, in order, the
// key decoded and the value as its raw bytes, as encoding/json's Decoder
// yields them, without the Decoder's cost. It takes only a valid JSON
// object: for anything else done is false and the caller decodes b itself,
// with the Decoder's errors. Otherwise done is true and err is visit's first
// error.
func eachMember(b []byte, visit func(key string, raw json.RawMessage) error) (done bool, err error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return false, nil
	}
	i := skipSpace(b, 1)
	for b[i] != '}' {
		end := stringEnd(b, i)
		key, ok := plainString(b[i:end])
		if !ok {
			if err := json.Unmarshal(b[i:end], &key); err != nil {
				return true, payloadError(malformed(err))
			}
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past the colon
		end = valueEnd(b, i)
		if err := visit(key, b[i:end:end]); err != nil {
			return true, err
		}
		i = skipSpace(b, end)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true, nil
}

// arrayElements returns the elements of raw, a valid JSON array, each as its
// raw bytes: what json.Unmarshal into a []json.RawMessage yields, without its
// reflection.
func arrayElements(raw []byte) []json.RawMessage {
	raw = bytes.TrimSpace(raw)
	var out []json.RawMessage
	i := skipSpace(raw, 1)
	for raw[i] != ']' {
		end := valueEnd(raw, i)
		out = append(out, raw[i:end:end])
		i = skipSpace(raw, end)
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return out
}

// skipSpace returns the index of the first byte of b at or after i that is
// not JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at
// b[i], in valid JSON.
func stringEnd(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// valueEnd returns the index just past the JSON value that starts at b[i],
// in valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default:
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}
