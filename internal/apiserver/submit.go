package apiserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"time"

	"essworker/internal/redisconn"
	"essworker/tasks"
)

// submitAnswer is the answer of POST /v1/detach-jobs: one entry per job, as
// the enqueue command prints them.
type submitAnswer struct {
	Jobs []tasks.EnqueueResult `json:"jobs"`
}

// submit is POST /v1/detach-jobs[?queue=NAME][&at=TIME|&in=DURATION]: one
// request of the job contract, split into jobs, each checked (tasks.Producer)
// before any is queued, run at once or no earlier than at or in.
func (s *Server) submit(w http.ResponseWriter, r *http.Request, client string) {
	queue, sched, body, ok := readSubmission(w, r)
	if !ok {
		return
	}
	p, err := tasks.DecodeDetachRequest(body)
	if err != nil {
		writeInvalid(w, err)
		return
	}
	jobs, err := s.producer.EnqueueAt(r.Context(), queue, sched, p)
	switch {
	case errors.Is(err, tasks.ErrIdempotencyConflict):
		s.log.Info("submission refused", "client", client, "queue", queue, "reason", err.Error(), "jobs_queued", len(jobs))
		writeError(w, http.StatusConflict, apiError{Code: codeIdempotencyConflict, Message: err.Error(), Field: "ClientToken"})
		return
	case errors.Is(err, tasks.ErrInvalidPayload):
		writeInvalid(w, err)
		return
	case err != nil:
		msg := redisconn.RedactPassword(err.Error(), s.cfg.RedisURL)
		s.log.Error("submission failed", "client", client, "queue", queue, "error", msg, "jobs_queued", len(jobs))
		writeError(w, http.StatusServiceUnavailable, apiError{Code: codeServiceUnavailable,
			Message: fmt.Sprintf("the queue does not answer (%d of the request's jobs were queued): submitting the same request again is safe", len(jobs))})
		return
	}
	status, enqueued := http.StatusOK, 0
	for _, j := range jobs {
		if j.State == tasks.StateEnqueued || j.State == tasks.StateScheduled {
			status, enqueued = http.StatusAccepted, enqueued+1
		}
	}
	// LogAttrs, unlike Info's key-value pairs, boxes nothing when the level is off.
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "submitted", slog.String("client", client), slog.String("queue", queue),
		slog.String("client_token", p.ClientToken), slog.Int("jobs", len(jobs)), slog.Int("enqueued", enqueued))
	writeJSON(w, status, submitAnswer{Jobs: jobs})
}

// readSubmission checks what every POST route takes: the queue parameter,
// the at or in parameter (scheduleParam), the Content-Type and the body.
// When it answers an error itself, ok is false.
func readSubmission(w http.ResponseWriter, r *http.Request) (queue string, sched tasks.Schedule, body []byte, ok bool) {
	params, perr := queryParams(r.URL.RawQuery, "queue", "at", "in")
	if perr == nil {
		queue, perr = queueParam(params, tasks.DefaultQueue)
	}
	if perr == nil {
		sched, perr = scheduleParam(params, time.Now())
	}
	if perr != nil {
		writeError(w, http.StatusBadRequest, *perr)
		return "", sched, nil, false
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, apiError{Code: codeUnsupportedMediaType,
			Message: fmt.Sprintf("Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))})
		return "", sched, nil, false
	}
	body, err := readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, apiError{Code: codePayloadTooLarge,
				Message: fmt.Sprintf("the body is larger than the job contract's limit of %d bytes", tasks.MaxPayloadSize)})
			return "", sched, nil, false
		}
		writeError(w, http.StatusBadRequest, apiError{Code: codeInvalidPayload, Message: "cannot read the body: " + err.Error()})
		return "", sched, nil, false
	}
	return queue, sched, body, true
}

// isJSON reports whether a Content-Type is that of JSON, parameters allowed.
func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// readBody reads the request body, at most tasks.MaxPayloadSize bytes; a
// larger one is an *http.MaxBytesError, whatever its Content-Length says.
// A body of known length is read into a buffer of that length, and one byte
// more for the read that meets its end, where io.ReadAll would start at 512
// bytes and grow.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > tasks.MaxPayloadSize {
		return nil, &http.MaxBytesError{Limit: tasks.MaxPayloadSize}
	}
	body := http.MaxBytesReader(w, r.Body, tasks.MaxPayloadSize)
	if r.ContentLength < 0 {
		return io.ReadAll(body)
	}
	b := make([]byte, 0, r.ContentLength+1)
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		case len(b) == cap(b):
			b = slices.Grow(b, 512)
		}
	}
}

// writeInvalid answers 400 InvalidPayload, naming the field when the error
// is about one.
func writeInvalid(w http.ResponseWriter, err error) {
	e := apiError{Code: codeInvalidPayload, Message: err.Error()}
	var fe *tasks.FieldError
	if errors.As(err, &fe) {
		e.Field = fe.Field
	}
	writeError(w, http.StatusBadRequest, e)
}
