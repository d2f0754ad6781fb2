package main

import (
	"encoding/json"
	"io"
)

// finalLine is the line --wait prints when a job ends or the wait stops.
type finalLine struct {
	TaskID string `json:"task_id"`
	// State is "completed" or "archived" when the job ended; when the wait
	// stopped first, the job's state then ("pending", "active", "retry",
	// "scheduled"), or "unknown" when it could not be read.
	State string `json:"state"`
	// Result is the job's tasks.DetachResult as the handler wrote it; left out
	// when the job wrote none (or none that is JSON).
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the job's last error when archived, "wait timed out" (or
	// "wait interrupted") when the wait stopped first; left out when the job
	// completed.
	Error string `json:"error,omitempty"`
}

// output writes the JSON lines of standard output and keeps the first write
// error, so that a closed pipe ends the run with exit status 1.
type output struct {
	enc *json.Encoder
	err error
}

func newOutput(w io.Writer) *output {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &output{enc: enc}
}

// line writes v as one JSON line. Encoding compacts a result the handler
// wrote with line breaks, so each line stays one line.
func (o *output) line(v any) {
	if o.err == nil {
		o.err = o.enc.Encode(v)
	}
}
