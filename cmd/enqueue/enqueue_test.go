package main

import (
	"reflect"
	"strings"
	"testing"

	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

func TestSingleJobThenDuplicate(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	args := []string{"--redis-url", s.URL(0), "--group", "asg-1", "--lb", "lb-1", "--token", "tok-1"}

	first := runCmd(t, "", "", args...)
	first.wantCode(t, 0)
	const enqueued = `{"task_id":"detach:tok-1","client_token":"tok-1","queue":"default","state":"enqueued"}` + "\n"
	if first.stdout != enqueued || first.stderr != "" {
		t.Fatalf("first run: stdout %q, stderr %q; want stdout %q and no stderr", first.stdout, first.stderr, enqueued)
	}

	again := runCmd(t, "", "", args...)
	again.wantCode(t, 0)
	const duplicate = `{"task_id":"detach:tok-1","client_token":"tok-1","queue":"default","state":"duplicate"}` + "\n"
	if again.stdout != duplicate || again.stderr != "" {
		t.Fatalf("second run: stdout %q, stderr %q; want stdout %q and no stderr", again.stdout, again.stderr, duplicate)
	}

	insp := inspector(t, s)
	got := pending(t, insp, "default")
	want := map[string]tasks.DetachPayload{"detach:tok-1": {
		ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}, ClientToken: "tok-1",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending tasks = %+v, want %+v", got, want)
	}
	if queues, err := insp.Queues(); err != nil || len(queues) != 1 {
		t.Fatalf("queues = %v, %v; want only default", queues, err)
	}
}

func TestFlagsReachThePayload(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	// REDIS_URL instead of --redis-url; no --token, so a random one.
	r := runCmd(t, s.URL(0), "", "--group", "asg-2", "--lb", "lb-a, lb-b",
		"--region", "cn-shanghai", "--force", "--async", "--queue", "critical")
	r.wantCode(t, 0)
	lines := r.lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1:\n%s", len(lines), r.stdout)
	}
	token, _ := lines[0]["client_token"].(string)
	if len(token) != 36 || lines[0]["task_id"] != tasks.TaskID(token) ||
		lines[0]["queue"] != "critical" || lines[0]["state"] != "enqueued" {
		t.Fatalf("line = %v; want a UUID token, its task ID, queue critical, state enqueued", lines[0])
	}
	got := pending(t, inspector(t, s), "critical")
	want := map[string]tasks.DetachPayload{tasks.TaskID(token): {
		RegionId: "cn-shanghai", ScalingGroupId: "asg-2", LoadBalancerIds: []string{"lb-a", "lb-b"},
		ForceDetach: true, Async: true, ClientToken: token,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending tasks = %+v, want %+v", got, want)
	}
}

func TestSevenLoadBalancersMakeTwoJobs(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	r := runCmd(t, s.URL(0), "", "--group", "asg-7", "--lb", "lb-1,lb-2,lb-3", "--lb", "lb-4",
		"--lb", "lb-5,lb-6,lb-7", "--token", "req-7")
	r.wantCode(t, 0)
	lines := r.lines(t)
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), r.stdout)
	}
	for i, l := range lines {
		want := tasks.ChunkToken("req-7", i)
		if l["client_token"] != want || l["task_id"] != tasks.TaskID(want) || l["state"] != "enqueued" {
			t.Errorf("line %d = %v; want token %s, enqueued", i, l, want)
		}
	}
	if lines[0]["client_token"] == lines[1]["client_token"] {
		t.Fatalf("both jobs have token %v", lines[0]["client_token"])
	}
	got := pending(t, inspector(t, s), "default")
	want := map[string]tasks.DetachPayload{
		tasks.TaskID(tasks.ChunkToken("req-7", 0)): {ScalingGroupId: "asg-7",
			LoadBalancerIds: []string{"lb-1", "lb-2", "lb-3", "lb-4", "lb-5"}, ClientToken: tasks.ChunkToken("req-7", 0)},
		tasks.TaskID(tasks.ChunkToken("req-7", 1)): {ScalingGroupId: "asg-7",
			LoadBalancerIds: []string{"lb-6", "lb-7"}, ClientToken: tasks.ChunkToken("req-7", 1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending tasks = %+v, want %+v", got, want)
	}
}

// threeRequests is a --file with three good lines, blank lines between.
const threeRequests = `
{"ScalingGroupId":"asg-f1","LoadBalancerIds":["lb-1"],"ClientToken":"file-1"}

{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-f2","LoadBalancerIds":["lb-2","lb-3"],"Async":true,"ClientToken":"file-2"}
   
{"ScalingGroupId":"asg-f3","LoadBalancerIds":["lb-4"],"ForceDetach":true}

`

func TestFileOfRequests(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	path := writeFile(t, "jobs.jsonl", threeRequests)
	r := runCmd(t, s.URL(0), "", "--file", path, "--region", "cn-beijing")
	r.wantCode(t, 0)
	lines := r.lines(t)
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), r.stdout)
	}
	if lines[0]["client_token"] != "file-1" || lines[1]["client_token"] != "file-2" {
		t.Fatalf("lines out of file order: %v", lines)
	}
	token3, _ := lines[2]["client_token"].(string)
	got := pending(t, inspector(t, s), "default")
	want := map[string]tasks.DetachPayload{
		"detach:file-1":      {RegionId: "cn-beijing", ScalingGroupId: "asg-f1", LoadBalancerIds: []string{"lb-1"}, ClientToken: "file-1"},
		"detach:file-2":      {RegionId: "cn-hangzhou", ScalingGroupId: "asg-f2", LoadBalancerIds: []string{"lb-2", "lb-3"}, Async: true, ClientToken: "file-2"},
		tasks.TaskID(token3): {RegionId: "cn-beijing", ScalingGroupId: "asg-f3", LoadBalancerIds: []string{"lb-4"}, ForceDetach: true, ClientToken: token3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending tasks = %+v, want %+v (--region is the default of lines without RegionId)", got, want)
	}
}

func TestFileFromStandardInput(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	r := runCmd(t, s.URL(0), threeRequests, "--file", "-")
	r.wantCode(t, 0)
	if n := len(r.lines(t)); n != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", n, r.stdout)
	}
	if n := len(pending(t, inspector(t, s), "default")); n != 3 {
		t.Fatalf("%d pending tasks, want 3", n)
	}
}

func TestFileWithBadLineQueuesNothing(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	path := writeFile(t, "jobs.jsonl", `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}
{"LoadBalancerIds":["lb-2"]}
{"ScalingGroupId":"asg-3","LoadBalancerIds":["lb-3"]}
`)
	r := runCmd(t, s.URL(0), "", "--file", path)
	r.wantCode(t, 2)
	const want = "enqueue: line 2: invalid payload: ScalingGroupId: required"
	if !strings.Contains(r.stderr, want) || r.stdout != "" {
		t.Fatalf("stdout %q, stderr %q; want no stdout and stderr with %q", r.stdout, r.stderr, want)
	}
	wantNoQueues(t, inspector(t, s))
}

func TestRedisUnreachable(t *testing.T) {
	t.Parallel()
	addr, err := sharedtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	const password = "hunter2-secret"
	for _, args := range [][]string{
		{"--redis-url", "redis://:" + password + "@" + addr + "/0", "--group", "asg-1", "--lb", "lb-1"},
		{"--redis-url", "redis://:" + password + "@" + addr + "/0", "--group", "asg-1", "--lb", "lb-1", "--wait"},
	} {
		r := runCmd(t, "", "", args...)
		r.wantCode(t, 1)
		if !strings.Contains(r.stderr, "enqueue: redis unreachable at redis://:xxxxx@"+addr) || r.stdout != "" {
			t.Fatalf("stdout %q, stderr %q; want no stdout and a clear message", r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Fatalf("output shows the Redis password:\n%s", r.stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	const password = "hunter2-secret"
	for _, flag := range []string{"-h", "--help"} {
		r := runCmd(t, "redis://:"+password+"@127.0.0.1:1/0", "", flag)
		r.wantCode(t, 0)
		for _, want := range []string{"Usage:", "--group ID", "--lb ID", "--file F", "--wait-timeout D", "(default 35m0s)", "[REDIS_URL]"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: usage lacks %q:\n%s", flag, want, r.stdout)
			}
		}
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Errorf("%s: usage shows the Redis password from REDIS_URL", flag)
		}
	}
}

// TestConflictRefused: a token already used for another request, or by a job
// of another queue, exits 2 and queues nothing, not even the other lines.
func TestConflictRefused(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	runCmd(t, s.URL(0), "", "--group", "asg-1", "--lb", "lb-1,lb-2", "--token", "taken").wantCode(t, 0)
	same := runCmd(t, s.URL(0), "", "--group", "asg-1", "--lb", "lb-2,lb-1", "--token", "taken")
	same.wantCode(t, 0)
	if !strings.Contains(same.stdout, `"state":"duplicate"`) {
		t.Fatalf("same request, load balancers reordered: stdout %q, want a duplicate", same.stdout)
	}

	file := `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-9"],"ClientToken":"fresh"}` + "\n" +
		`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-3"],"ClientToken":"taken"}` + "\n"
	r := runCmd(t, s.URL(0), file, "--file", "-")
	r.wantCode(t, 2)
	if r.stdout != "" || !strings.Contains(r.stderr, `enqueue: idempotency conflict: ClientToken "taken": taken by a job with another payload`) {
		t.Fatalf("another payload: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	r = runCmd(t, s.URL(0), "", "--group", "asg-1", "--lb", "lb-1,lb-2", "--token", "taken", "--queue", "critical")
	r.wantCode(t, 2)
	if !strings.Contains(r.stderr, "taken by a job of another queue") {
		t.Fatalf("another queue: stderr %q", r.stderr)
	}
	insp := inspector(t, s)
	if got := pending(t, insp, "default"); len(got) != 1 {
		t.Fatalf("pending tasks %v, want only the first request's", got)
	}
	if queues, err := insp.Queues(); err != nil || len(queues) != 1 {
		t.Fatalf("queues = %v, %v; want only default", queues, err)
	}
}
