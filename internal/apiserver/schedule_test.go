package apiserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/tasks"
)

// TestSubmitScheduled: ?at= queues the jobs scheduled for the next whole
// second, answered "scheduled" with 202; GET shows the state "scheduled";
// the same request again is a duplicate that keeps the time.
func TestSubmitScheduled(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	at := time.Now().Add(3 * time.Hour).Truncate(time.Second).Add(400 * time.Millisecond)
	due := at.Truncate(time.Second).Add(time.Second)
	// An unescaped "+" of the zone offset arrives as a space, and is taken back.
	zoned := strings.Replace(at.In(time.FixedZone("", 8*3600)).Format(time.RFC3339Nano), "+", "%2B", 1)
	for i, query := range []string{"at=" + url.QueryEscape(at.UTC().Format(time.RFC3339Nano)), "at=" + zoned, "at=" + strings.Replace(zoned, "%2B", "+", 1)} {
		t.Run(query, func(t *testing.T) {
			token := "sched-" + strconv.Itoa(i)
			body := `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"` + token + `"}`
			want := []tasks.EnqueueResult{{TaskID: "detach:" + token, ClientToken: token, Queue: "default", State: "scheduled"}}
			if got := a.do(t, "POST", "/v1/detach-jobs?"+query, tokenCI, body).jobs(t, http.StatusAccepted); !reflect.DeepEqual(got, want) {
				t.Fatalf("submission: %+v, want %+v", got, want)
			}
			info, err := a.insp.GetTaskInfo("default", "detach:"+token)
			if err != nil || info.State != asynq.TaskStateScheduled || !info.NextProcessAt.Equal(due) {
				t.Fatalf("task: %+v, %v; want scheduled at %v", info, err, due)
			}
			r := a.do(t, "GET", "/v1/detach-jobs/"+token, tokenCI, "")
			var job jobAnswer
			if err := json.Unmarshal(r.body, &job); err != nil || r.status != http.StatusOK || job.State != "scheduled" {
				t.Fatalf("GET: %d %s; want the state scheduled", r.status, r.body)
			}
			want[0].State = "duplicate"
			if got := a.do(t, "POST", "/v1/detach-jobs?in=1m", tokenCI, body).jobs(t, http.StatusOK); !reflect.DeepEqual(got, want) {
				t.Fatalf("again: %+v, want %+v", got, want)
			}
			if info, err := a.insp.GetTaskInfo("default", "detach:"+token); err != nil || !info.NextProcessAt.Equal(due) {
				t.Fatalf("task after the duplicate: %+v, %v; want its time %v kept", info, err, due)
			}
		})
	}
}

// TestSubmitScheduledIn: ?in= schedules every job of a split request for
// the same whole second, d after the request.
func TestSubmitScheduledIn(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	before := time.Now()
	jobs := a.do(t, "POST", "/v1/detach-jobs?in=90m&queue=later", tokenCI,
		`{"ScalingGroupId":"asg-7","LoadBalancerIds":["a","b","c","d","e","f","g"],"ClientToken":"in-7"}`).jobs(t, http.StatusAccepted)
	after := time.Now()
	if len(jobs) != 2 {
		t.Fatalf("jobs %+v, want 2", jobs)
	}
	var due time.Time
	for i, j := range jobs {
		info, err := a.insp.GetTaskInfo("later", j.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != "scheduled" || info.State != asynq.TaskStateScheduled || (i > 0 && !info.NextProcessAt.Equal(due)) {
			t.Errorf("job %+v: %v at %v; want scheduled, all at one time", j, info.State, info.NextProcessAt)
		}
		due = info.NextProcessAt
	}
	if due.Nanosecond() != 0 || due.Before(before.Add(90*time.Minute)) || !due.Before(after.Add(90*time.Minute+time.Second)) {
		t.Errorf("request between %v and %v with in=90m: scheduled at %v", before, after, due)
	}
}

// TestSubmitScheduleRefused: a bad at or in is a 400 InvalidParameter naming
// it, and nothing is queued.
func TestSubmitScheduleRefused(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	cases := []struct {
		query, field, message string
	}{
		{"at=2099-01-01T00:00:00Z&in=1h", "at", "not both"},
		{"at=2020-01-01T00:00:00Z", "at", "query parameter at: invalid schedule: 2020-01-01T00:00:00Z is in the past"},
		{"at=" + url.QueryEscape(time.Now().Add(31*24*time.Hour).UTC().Format(time.RFC3339)), "at", "more than 30 days ahead"},
		{"at=tomorrow", "at", `query parameter at: "tomorrow" is not an RFC 3339 time`},
		{"at=2099-01-01T00:00:00", "at", "is not an RFC 3339 time"},
		{"in=-5m", "in", "query parameter in: invalid schedule: -5m0s is negative"},
		{"in=721h", "in", "query parameter in: invalid schedule: 721h0m0s is more than 30 days ahead"},
		{"in=soon", "in", `query parameter in: "soon" is not a duration`},
		{"in=1h&in=2h", "in", "given more than once"},
	}
	for _, tc := range cases {
		e := a.do(t, "POST", "/v1/detach-jobs?"+tc.query, tokenCI, oneJob).wantError(t, http.StatusBadRequest, codeInvalidParameter, tc.field)
		if !strings.Contains(e.Error.Message, tc.message) {
			t.Errorf("?%s: message %q, want %q in it", tc.query, e.Error.Message, tc.message)
		}
	}
	if n := a.totalTasks(t); n != 0 {
		t.Fatalf("%d tasks queued, want none", n)
	}
}
