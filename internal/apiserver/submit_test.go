package apiserver

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"essworker/tasks"
)

const oneJob = `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1","lb-2"],"Async":true,"ClientToken":"req-1"}`

func TestSubmitThenDuplicateThenConflict(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	want := []tasks.EnqueueResult{{TaskID: "detach:req-1", ClientToken: "req-1", Queue: "default", State: "enqueued"}}
	if got := a.do(t, "POST", "/v1/detach-jobs", tokenCI, oneJob).jobs(t, http.StatusAccepted); !reflect.DeepEqual(got, want) {
		t.Fatalf("first submission: %+v, want %+v", got, want)
	}
	want[0].State = "duplicate"
	reordered := strings.Replace(oneJob, `"lb-1","lb-2"`, `"lb-2","lb-1"`, 1)
	for _, body := range []string{oneJob, reordered} {
		if got := a.do(t, "POST", "/v1/detach-jobs", tokenBot, body).jobs(t, http.StatusOK); !reflect.DeepEqual(got, want) {
			t.Fatalf("same request again: %+v, want %+v", got, want)
		}
	}
	other := strings.Replace(oneJob, `"Async":true`, `"Async":false`, 1)
	e := a.do(t, "POST", "/v1/detach-jobs", tokenCI, other).wantError(t, http.StatusConflict, codeIdempotencyConflict, "ClientToken")
	if !strings.Contains(e.Error.Message, "another payload") {
		t.Errorf("conflict message %q", e.Error.Message)
	}
	e = a.do(t, "POST", "/v1/detach-jobs?queue=critical", tokenCI, oneJob).wantError(t, http.StatusConflict, codeIdempotencyConflict, "ClientToken")
	if !strings.Contains(e.Error.Message, "another queue") {
		t.Errorf("conflict message %q", e.Error.Message)
	}
	if n := a.totalTasks(t); n != 1 {
		t.Fatalf("%d tasks queued, want 1", n)
	}
	info, err := a.insp.GetTaskInfo("default", "detach:req-1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := tasks.DecodeDetachPayload(info.Payload)
	if err != nil || !p.Async || p.ScalingGroupId != "asg-1" || len(p.LoadBalancerIds) != 2 {
		t.Fatalf("queued payload %+v, %v", p, err)
	}
	for _, line := range []string{`"client":"ci"`, `"client":"bot"`, `"msg":"submitted"`, `"msg":"submission refused"`} {
		if !strings.Contains(a.logs.String(), line) {
			t.Errorf("logs lack %s:\n%s", line, a.logs.String())
		}
	}
}

// TestSubmitSplitAndPartial: more than 5 load balancers are split as the
// contract says; a request whose first job exists answers 202, that job a
// duplicate and the other enqueued; the split request's own token is no job.
func TestSubmitSplitAndPartial(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	const seven = `{"ScalingGroupId":"asg-7","LoadBalancerIds":["a","b","c","d","e","f","g"],"ClientToken":"big"}`
	req, err := tasks.DecodeDetachRequest([]byte(seven))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := tasks.SplitDetach(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.producer.Enqueue(context.Background(), "q7", chunks[0]); err != nil {
		t.Fatal(err)
	}
	got := a.do(t, "POST", "/v1/detach-jobs?queue=q7", tokenCI, seven).jobs(t, http.StatusAccepted)
	want := []tasks.EnqueueResult{
		{TaskID: tasks.TaskID(tasks.ChunkToken("big", 0)), ClientToken: tasks.ChunkToken("big", 0), Queue: "q7", State: "duplicate"},
		{TaskID: tasks.TaskID(tasks.ChunkToken("big", 1)), ClientToken: tasks.ChunkToken("big", 1), Queue: "q7", State: "enqueued"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("split submission: %+v, want %+v", got, want)
	}
	if n := a.queueSize(t, "q7"); n != 2 {
		t.Fatalf("q7 holds %d tasks, want 2", n)
	}
	e := a.do(t, "GET", "/v1/detach-jobs/big", tokenCI, "").wantError(t, http.StatusNotFound, codeNotFound, "")
	if !strings.Contains(e.Error.Message, "split into jobs") {
		t.Errorf("404 of a split request's token: %q, want it to say so", e.Error.Message)
	}
	// A request whose token is the split one's, as one job, is refused.
	single := `{"ScalingGroupId":"asg-7","LoadBalancerIds":["a"],"ClientToken":"big"}`
	a.do(t, "POST", "/v1/detach-jobs?queue=q7", tokenCI, single).wantError(t, http.StatusConflict, codeIdempotencyConflict, "ClientToken")
}

// TestSubmitWithoutToken: a request without ClientToken gets a UUID, and
// Content-Type parameters are allowed.
func TestSubmitWithoutToken(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	r := a.doWith(t, "POST", "/v1/detach-jobs", tokenCI, "application/json; charset=utf-8",
		strings.NewReader(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`))
	jobs := r.jobs(t, http.StatusAccepted)
	if len(jobs) != 1 || len(jobs[0].ClientToken) != 36 || jobs[0].TaskID != tasks.TaskID(jobs[0].ClientToken) {
		t.Fatalf("jobs %+v; want one with a UUID token", jobs)
	}
	if n := a.queueSize(t, "default"); n != 1 {
		t.Fatalf("default holds %d tasks, want 1", n)
	}
}
