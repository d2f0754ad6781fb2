package apiserver

import (
	"encoding/json"
	"testing"

	"essworker/tasks"
)

// marshalledAnswer is submitAnswer{Jobs: jobs} as writeJSON writes it.
func marshalledAnswer(t *testing.T, jobs []tasks.EnqueueResult) string {
	t.Helper()
	b, err := json.Marshal(submitAnswer{Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestSubmitAnswerIsJSONMarshal(t *testing.T) {
	t.Parallel()
	job := func(token string) tasks.EnqueueResult {
		return tasks.EnqueueResult{TaskID: tasks.TaskID(token), ClientToken: token, Queue: "default", State: tasks.StateEnqueued}
	}
	for _, jobs := range [][]tasks.EnqueueResult{
		nil,
		{},
		{job("req-1")},
		{job("a"), job("b"), {TaskID: "detach:c", ClientToken: "c", Queue: "critical", State: tasks.StateDuplicate}},
		{job(`quote"back\slash`), job("<html>&amp;"), job("tab\there"), job("\u2028\u2029"), job("é\xff"), job("\x00\x1f\x7f")},
		{{}},
	} {
		if got, want := string(appendSubmitAnswer(nil, jobs)), marshalledAnswer(t, jobs); got != want {
			t.Errorf("appendSubmitAnswer(%q) =\n%s, json.Marshal:\n%s", jobs, got, want)
		}
	}
}

// TestSubmitAnswerSize: the buffer of an answer whose strings need no
// escaping holds it without growing.
func TestSubmitAnswerSize(t *testing.T) {
	t.Parallel()
	var jobs []tasks.EnqueueResult
	for _, token := range []string{"req-1", "a", "8b0d7f5e-3c52-4f0e-9a51-6d2f1e7c4a90"} {
		jobs = append(jobs, tasks.EnqueueResult{TaskID: tasks.TaskID(token), ClientToken: token, Queue: "critical", State: tasks.StateDuplicate})
		answer := appendSubmitAnswer(nil, jobs)
		if n := submitAnswerSize(jobs); n < len(answer) {
			t.Errorf("submitAnswerSize of %d jobs = %d, short of the %d bytes of %s", len(jobs), n, len(answer), answer)
		}
	}
}

func FuzzSubmitAnswer(f *testing.F) {
	for _, seed := range []string{"req-1", "", `"\<>&`, "\u2028", "\xff", "~\x7f"} {
		f.Add(seed, seed+"-q")
	}
	f.Fuzz(func(t *testing.T, token, queue string) {
		jobs := []tasks.EnqueueResult{
			{TaskID: tasks.TaskID(token), ClientToken: token, Queue: queue, State: tasks.StateScheduled},
			{TaskID: queue, ClientToken: queue, Queue: token, State: token},
		}
		if got, want := string(appendSubmitAnswer(nil, jobs)), marshalledAnswer(t, jobs); got != want {
			t.Fatalf("appendSubmitAnswer =\n%s, json.Marshal:\n%s", got, want)
		}
	})
}
