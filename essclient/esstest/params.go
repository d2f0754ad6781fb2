package esstest

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxBodyBytes bounds a form body; ESS requests are small.
const maxBodyBytes = 1 << 20

// params are a request's parameters, from the query string and a form body.
type params map[string]string

// parseParams merges the query string and, for a form POST, the body. A
// parameter given more than once is ambiguous to sign, so it is rejected. It
// also returns the raw body, whose hash Signature V3 signs.
func parseParams(w http.ResponseWriter, r *http.Request) (params, []byte, *apiError) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes)); err != nil {
			return nil, nil, newError(CodeInvalidParameter, "The request parameters cannot be parsed: %v.", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := r.ParseForm(); err != nil {
		return nil, nil, newError(CodeInvalidParameter, "The request parameters cannot be parsed: %v.", err)
	}
	p := make(params, len(r.Form))
	for k, vs := range r.Form {
		if len(vs) != 1 {
			return nil, nil, errInvalid(k, "given more than once")
		}
		p[k] = vs[0]
	}
	return p, body, nil
}

// boolean reads an optional "true"/"false" parameter.
func (p params) boolean(name string) (bool, *apiError) {
	v, ok := p[name]
	if !ok || v == "" {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errInvalid(name, "must be true or false")
}

// integer reads an optional integer parameter within [lo, hi].
func (p params) integer(name string, def, lo, hi int) (int, *apiError) {
	v, ok := p[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errInvalid(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// list reads a numbered list (name.1, name.2, ...) of at most max non-empty
// values, in the order of N.
func (p params) list(name string, max int) ([]string, *apiError) {
	type item struct {
		n int
		v string
	}
	var items []item
	for k, v := range p {
		suffix, ok := strings.CutPrefix(k, name+".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(suffix)
		if err != nil || n < 1 {
			return nil, errInvalid(k, "the index must be a positive integer")
		}
		if v == "" {
			return nil, errInvalid(k, "empty value")
		}
		items = append(items, item{n, v})
	}
	if len(items) > max {
		return nil, errInvalid(name, "at most "+strconv.Itoa(max)+" values are allowed, got "+strconv.Itoa(len(items)))
	}
	slices.SortFunc(items, func(a, b item) int { return a.n - b.n })
	out := make([]string, len(items))
	for i, it := range items {
		if it.n > max {
			return nil, errInvalid(name+"."+strconv.Itoa(it.n), "the index must be at most "+strconv.Itoa(max))
		}
		out[i] = it.v
	}
	return out, nil
}
