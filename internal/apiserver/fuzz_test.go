package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"essworker/tasks"
)

// FuzzSubmitBody posts arbitrary bodies: the handler never panics, answers
// only the statuses the API documents for a body, queues nothing unless it
// answers 200 or 202, and every job it queues is valid under the contract.
func FuzzSubmitBody(f *testing.F) {
	for _, seed := range []string{
		oneJob,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e","f","g"],"ClientToken":"seven"}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"req-1","Async":false}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"LoadBalancerIds":["lb-2"]}`,
		`{"ScalingGroupId":"asg 1","LoadBalancerIds":["lb-1"]}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":[null]}`,
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]} {}`,
		`{"RegionId":"CN","ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`,
		"\xff\xfe{", "", "null", "[]", `"x"`,
	} {
		f.Add([]byte(seed))
	}
	a := startAPI(f, "", nil)
	h := a.routes()
	rdb := a.redis.Client(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ctx := context.Background()
		before, err := rdb.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/v1/detach-jobs", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokenCI)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusAccepted:
		case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
			after, err := rdb.DBSize(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Fatalf("answer %d %s, and Redis went from %d to %d keys", rec.Code, rec.Body, before, after)
			}
			return
		default:
			t.Fatalf("answer %d %s for body %q", rec.Code, rec.Body, body)
		}
		var got submitAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Jobs) == 0 {
			t.Fatalf("answer %d %s: %v", rec.Code, rec.Body, err)
		}
		for _, j := range got.Jobs {
			info, err := a.insp.GetTaskInfo(j.Queue, j.TaskID)
			if err != nil {
				t.Fatalf("job %+v: %v", j, err)
			}
			if _, err := tasks.DecodeDetachPayload(info.Payload); err != nil {
				t.Fatalf("queued job %s is invalid: %v (body %q)", j.TaskID, err, body)
			}
		}
	})
}
