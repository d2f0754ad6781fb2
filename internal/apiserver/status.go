package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"essworker/internal/redisconn"
	"essworker/tasks"
)

// jobAnswer is the answer of GET /v1/detach-jobs/{client_token}.
type jobAnswer struct {
	TaskID      string `json:"task_id"`
	ClientToken string `json:"client_token"`
	Queue       string `json:"queue"`
	// State is asynq's: pending, active, scheduled, retry, completed, archived.
	State string `json:"state"`
	// Result is the job's tasks.DetachResult as the worker wrote it; left out
	// until there is one.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the job's last error; left out until there is one, and once
	// the job completed.
	Error string `json:"error,omitempty"`
}

// status is GET /v1/detach-jobs/{client_token}[?wait=DURATION]: the job in
// whichever queue holds it, after waiting up to wait for its end.
func (s *Server) status(w http.ResponseWriter, r *http.Request, client string) {
	s.answerJob(w, r, client, s.producer.Job)
}

// answerJob answers the GET routes: the task lookup finds by the path's
// client_token, after waiting up to the wait parameter for its end.
func (s *Server) answerJob(w http.ResponseWriter, r *http.Request, client string, lookup func(context.Context, string) (*asynq.TaskInfo, error)) {
	params, perr := queryParams(r.URL.RawQuery, "wait")
	var wait time.Duration
	if perr == nil {
		wait, perr = waitParam(params)
	}
	if perr != nil {
		writeError(w, http.StatusBadRequest, *perr)
		return
	}
	token := r.PathValue("client_token")
	if token == "" || len(token) > tasks.MaxClientTokenLen {
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: "no job has this ClientToken: a ClientToken has 1 to 64 characters"})
		return
	}
	info, err := lookup(r.Context(), token)
	if err == nil && wait > 0 && !finished(info.State) {
		info, err = s.wait(r.Context(), info, wait)
	}
	switch {
	case errors.Is(err, tasks.ErrJobNotFound), errors.Is(err, asynq.ErrTaskNotFound):
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: err.Error()})
		return
	case err != nil:
		s.log.Error("job look-up failed", "client", client, "client_token", token,
			"error", redisconn.RedactPassword(err.Error(), s.cfg.RedisURL))
		writeError(w, http.StatusServiceUnavailable, apiError{Code: codeServiceUnavailable, Message: "the queue does not answer"})
		return
	}
	a := jobAnswer{TaskID: info.ID, ClientToken: token, Queue: info.Queue, State: info.State.String()}
	if info.State != asynq.TaskStateCompleted {
		// A completed job keeps the text of its last snooze or failed
		// attempt; it is no error of the job's end.
		a.Error = info.LastErr
	}
	if len(info.Result) > 0 && json.Valid(info.Result) {
		a.Result = info.Result
	}
	writeJSON(w, http.StatusOK, a)
}

// wait waits up to d for the job of info to end, and returns its info at the
// end or when d (or the server's drain on shutdown) cuts the wait short.
func (s *Server) wait(ctx context.Context, info *asynq.TaskInfo, d time.Duration) (*asynq.TaskInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	stop := context.AfterFunc(s.draining, cancel)
	defer stop()
	got, err := tasks.WaitResult(ctx, s.producer.Inspector(), info.Queue, info.ID, s.waitPoll)
	switch {
	case err == nil:
		return got, nil
	case got != nil && ctx.Err() != nil:
		return got, nil // the wait ended first: the state of this moment
	default:
		return nil, err
	}
}

// finished reports whether a job in state st has ended.
func finished(st asynq.TaskState) bool {
	return st == asynq.TaskStateCompleted || st == asynq.TaskStateArchived
}
