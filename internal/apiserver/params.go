package apiserver

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"essworker/tasks"
)

// maxWait bounds GET's ?wait=.
const maxWait = 60 * time.Second

// maxQueueLen bounds ?queue=; asynq's own queue names are short words.
const maxQueueLen = 128

// paramError is a bad query parameter: a 400 InvalidParameter naming it.
func paramError(name, reason string) *apiError {
	return &apiError{Code: codeInvalidParameter, Message: fmt.Sprintf("query parameter %s: %s", name, reason), Field: name}
}

// queryParams parses a query string whose parameters must be among allowed,
// each given at most once.
func queryParams(raw string, allowed ...string) (map[string]string, *apiError) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &apiError{Code: codeInvalidParameter, Message: "malformed query string: " + err.Error()}
	}
	out := make(map[string]string, len(values))
	for name, vs := range values {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		switch {
		case !ok:
			return nil, paramError(name, fmt.Sprintf("unknown (this route takes %s)", strings.Join(allowed, ", ")))
		case len(vs) > 1:
			return nil, paramError(name, "given more than once")
		}
		out[name] = vs[0]
	}
	return out, nil
}

// queueParam is ?queue=, the default queue when absent.
func queueParam(params map[string]string, def string) (string, *apiError) {
	q, ok := params["queue"]
	if !ok {
		return def, nil
	}
	switch {
	case q == "":
		return "", paramError("queue", "empty")
	case len(q) > maxQueueLen:
		return "", paramError("queue", fmt.Sprintf("longer than %d characters", maxQueueLen))
	case strings.ContainsFunc(q, func(r rune) bool { return r <= ' ' || r > '~' }):
		return "", paramError("queue", "must be printable ASCII without spaces")
	}
	return q, nil
}

// scheduleParam is ?at= (an RFC 3339 time) or ?in= (a Go duration), when
// the jobs of a submission run, as of now: the zero tasks.Schedule, at once,
// when neither is given. Every POST route that queues jobs takes it.
func scheduleParam(params map[string]string, now time.Time) (tasks.Schedule, *apiError) {
	at, hasAt := params["at"]
	in, hasIn := params["in"]
	switch {
	case hasAt && hasIn:
		return tasks.Schedule{}, paramError("at", "give at or in, not both")
	case hasAt:
		// A "+" of a zone offset left unescaped arrives as a space; an RFC 3339
		// time has no space, so the space can only be that "+".
		t, err := time.Parse(time.RFC3339, strings.ReplaceAll(at, " ", "+"))
		if err != nil {
			return tasks.Schedule{}, paramError("at", fmt.Sprintf("%q is not an RFC 3339 time such as 2026-12-02T03:00:00Z", at))
		}
		s, err := tasks.ScheduleAt(t, now)
		if err != nil {
			return tasks.Schedule{}, paramError("at", err.Error())
		}
		return s, nil
	case hasIn:
		d, err := time.ParseDuration(in)
		if err != nil {
			return tasks.Schedule{}, paramError("in", fmt.Sprintf("%q is not a duration such as 90m", in))
		}
		s, err := tasks.ScheduleIn(d, now)
		if err != nil {
			return tasks.Schedule{}, paramError("in", err.Error())
		}
		return s, nil
	}
	return tasks.Schedule{}, nil
}

// waitParam is ?wait=, a Go duration from 0 to maxWait; 0 when absent.
func waitParam(params map[string]string) (time.Duration, *apiError) {
	v, ok := params["wait"]
	if !ok {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, paramError("wait", fmt.Sprintf("%q is not a duration such as 30s", v))
	case d < 0:
		return 0, paramError("wait", "must not be negative")
	case d > maxWait:
		return 0, paramError("wait", fmt.Sprintf("at most %v (got %v)", maxWait, d))
	}
	return d, nil
}
