package jobend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/tasks"
)

// LastAttempt reports whether a failed attempt under ctx ends the job: its
// retries are used up (asynq's limit or maxRetry, whichever is lower), so
// asynq would archive it without telling the handler. An attempt whose ctx
// ended (a shutdown) is never the last: asynq hands the job back.
func LastAttempt(ctx context.Context, maxRetry int) bool {
	n, _ := asynq.GetRetryCount(ctx)
	limit, _ := asynq.GetMaxRetry(ctx)
	return n >= min(limit, maxRetry) && ctx.Err() == nil
}

// Attempt is the number of the attempt running under ctx, from 1; snoozes
// are not attempts.
func Attempt(ctx context.Context) int {
	n, _ := asynq.GetRetryCount(ctx)
	return n + 1
}

// Failure is what a result says of err: ESS's code, message and request ID
// for an *essclient.Error, else no code and err's text.
func Failure(err error) (code, message, requestID string) {
	var e *essclient.Error
	if errors.As(err, &e) {
		return e.Code, e.Message, e.RequestID
	}
	return "", err.Error(), ""
}

// ResultField is the field of asynq's task hash (TaskKey) that holds a
// task's result: what asynq's ResultWriter writes and its Inspector reads
// as TaskInfo.Result.
const ResultField = "result"

// TaskKey is asynq's hash of the task taskID in queue, for a handler that
// writes its result with other keys in one script instead of through the
// ResultWriter. TestTaskKeyIsAsynqs checks it against asynq itself.
func TaskKey(queue, taskID string) string { return "asynq:{" + queue + "}:t:" + taskID }

// EncodeResult encodes a job's result as JSON.
func EncodeResult(result any) ([]byte, error) {
	b, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return b, nil
}

// WriteResult encodes result as JSON and writes it with t's ResultWriter,
// and returns the JSON.
func WriteResult(t *asynq.Task, result any) ([]byte, error) {
	b, err := EncodeResult(result)
	if err != nil {
		return nil, err
	}
	if w := t.ResultWriter(); w != nil {
		if _, err := w.Write(b); err != nil {
			return nil, fmt.Errorf("write result: %w", err)
		}
	}
	return b, nil
}

// SinceEnqueue is the time since t was enqueued (its tasks.HeaderEnqueuedAt),
// negative when unknown.
func SinceEnqueue(t *asynq.Task) time.Duration {
	ns, err := strconv.ParseInt(t.Headers()[tasks.HeaderEnqueuedAt], 10, 64)
	if err != nil {
		return -1
	}
	return time.Since(time.Unix(0, ns))
}

// Archive ends a job for good: asynq archives it at once, with cause's text
// as its last error.
func Archive(cause error) error { return &archiveError{cause: cause} }

type archiveError struct{ cause error }

func (e *archiveError) Error() string   { return e.cause.Error() }
func (e *archiveError) Unwrap() []error { return []error{e.cause, asynq.SkipRetry} }
