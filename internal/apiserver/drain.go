package apiserver

import (
	"errors"
	"net/http"

	"essworker/internal/redisconn"
	"essworker/tasks"
)

// submitDrain is POST /v1/drain-jobs[?queue=NAME][&at=TIME|&in=DURATION]: one
// drain of the job contract (tasks.DrainPayload), checked by tasks.Producer as
// a detach request is, answered as POST /v1/detach-jobs answers, its one job
// the drain; a scheduled drain fans out when it runs.
func (s *Server) submitDrain(w http.ResponseWriter, r *http.Request, client string) {
	queue, sched, body, ok := readSubmission(w, r)
	if !ok {
		return
	}
	p, err := tasks.DecodeDrainPayload(body)
	if err != nil {
		writeInvalid(w, err)
		return
	}
	job, err := s.producer.EnqueueDrainAt(r.Context(), queue, sched, p)
	switch {
	case errors.Is(err, tasks.ErrIdempotencyConflict):
		s.log.Info("drain refused", "client", client, "queue", queue, "reason", err.Error())
		writeError(w, http.StatusConflict, apiError{Code: codeIdempotencyConflict, Message: err.Error(), Field: "ClientToken"})
		return
	case errors.Is(err, tasks.ErrInvalidPayload):
		writeInvalid(w, err)
		return
	case err != nil:
		s.log.Error("drain failed", "client", client, "queue", queue, "error", redisconn.RedactPassword(err.Error(), s.cfg.RedisURL))
		writeError(w, http.StatusServiceUnavailable, apiError{Code: codeServiceUnavailable,
			Message: "the queue does not answer: submitting the same drain again is safe"})
		return
	}
	status := http.StatusOK
	if job.State == tasks.StateEnqueued || job.State == tasks.StateScheduled {
		status = http.StatusAccepted
	}
	s.log.Info("drain submitted", "client", client, "queue", queue, "client_token", job.ClientToken, "state", job.State)
	writeJSON(w, status, submitAnswer{Jobs: []tasks.EnqueueResult{job}})
}

// drainStatus is GET /v1/drain-jobs/{client_token}[?wait=DURATION]: the
// drain, answered as GET /v1/detach-jobs/{client_token} answers a job; its
// result (tasks.DrainResult) lists the detach jobs it made.
func (s *Server) drainStatus(w http.ResponseWriter, r *http.Request, client string) {
	s.answerJob(w, r, client, s.producer.DrainJob)
}
