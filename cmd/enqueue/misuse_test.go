package main

import (
	"strings"
	"testing"
	"time"

	"essworker/internal/redistest"
)

// TestMisuse runs the command with bad input: each run exits 2, prints nothing
// on standard output, names the problem on standard error, and queues nothing.
func TestMisuse(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	good := writeFile(t, "good.jsonl", `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`+"\n")
	empty := writeFile(t, "empty.jsonl", "\n\n")
	job := []string{"--group", "asg-1", "--lb", "lb-1"}
	with := func(extra ...string) []string { return append(append([]string{}, job...), extra...) }

	cases := []struct {
		name   string
		args   []string
		stdin  string
		stderr string // a part of standard error
	}{
		{"no group", []string{"--lb", "lb-1"}, "", "enqueue: --group: required"},
		{"empty group", []string{"--group", "", "--lb", "lb-1"}, "", "enqueue: --group: required"},
		{"no lb", []string{"--group", "asg-1"}, "", "enqueue: --lb: required"},
		{"no job at all", nil, "", "use --group and --lb, or --file"},
		{"sixth lb repeats the first", []string{"--group", "asg-1", "--lb", "lb-1,lb-2,lb-3,lb-4,lb-5,lb-1"}, "",
			`enqueue: --lb: LoadBalancerIds[5]: duplicate of LoadBalancerIds[0] ("lb-1")`},
		{"duplicate lb over two flags", []string{"--group", "asg-1", "--lb", "lb-1", "--lb", "lb-1"}, "",
			"enqueue: --lb: LoadBalancerIds[1]: duplicate"},
		{"empty lb in list", []string{"--group", "asg-1", "--lb", "a,,b"}, "", "enqueue: --lb: LoadBalancerIds[1]: empty"},
		{"group with a space", []string{"--group", "asg 1", "--lb", "lb-1"}, "", "enqueue: --group: ScalingGroupId: must be printable ASCII"},
		{"token of 65 characters", with("--token", strings.Repeat("t", 65)), "", "enqueue: --token: ClientToken: longer than 64 characters (got 65)"},
		{"non-ASCII token", with("--token", "tøken"), "", "enqueue: --token: ClientToken: must be printable ASCII"},
		{"empty token", with("--token", ""), "", "enqueue: --token: empty"},
		{"bad region", with("--region", "CN_Hangzhou"), "", "enqueue: --region: RegionId: must look like a region ID"},
		{"empty queue", with("--queue", ""), "", "enqueue: --queue:"},
		{"file and group", []string{"--file", good, "--group", "asg-1"}, "", "enqueue: --file and --group"},
		{"file and lb", []string{"--file", good, "--lb", "lb-1"}, "", "enqueue: --file and --lb"},
		{"token with file", []string{"--file", good, "--token", "tok"}, "", "enqueue: --token: not allowed with --file"},
		{"force with file", []string{"--file", good, "--force"}, "", "enqueue: --force: not allowed with --file"},
		{"async with file", []string{"--file", good, "--async"}, "", "enqueue: --async: not allowed with --file"},
		{"bad region default for file", []string{"--file", good, "--region", "Bad Region"}, "", "enqueue: --region: RegionId:"},
		{"missing file", []string{"--file", "/nonexistent/jobs.jsonl"}, "", "enqueue: --file: open /nonexistent/jobs.jsonl"},
		{"file without requests", []string{"--file", empty}, "", "no requests in input"},
		{"stdin with a bad line", []string{"--file", "-"}, `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"Force":true}`,
			"enqueue: line 1: invalid payload: Force: unknown field"},
		{"all groups and group", []string{"--lb", "lb-1", "--all-groups", "--group", "asg-1"}, "", "enqueue: --all-groups and --group"},
		{"all groups and file", []string{"--all-groups", "--file", good}, "", "enqueue: --all-groups and --file"},
		{"all groups without lb", []string{"--all-groups"}, "", "enqueue: --lb: required with --all-groups"},
		{"one token for two drains", []string{"--lb", "lb-1,lb-2", "--all-groups", "--token", "t"}, "", "enqueue: --token: one token names one drain, and --lb gives 2 load balancers"},
		{"drain of an empty lb", []string{"--lb", "lb-1,", "--all-groups"}, "", "enqueue: --lb: LoadBalancerId: required"},
		{"drain in a bad region", []string{"--lb", "lb-1", "--all-groups", "--region", "Bad"}, "", "enqueue: --region: RegionId: must look like a region ID"},
		{"unknown flag", with("--bogus"), "", "enqueue: flag provided but not defined: -bogus"},
		{"extra argument", with("extra"), "", `enqueue: unexpected argument "extra"`},
		{"bad wait timeout", with("--wait", "--wait-timeout", "soon"), "", `invalid value "soon" for flag -wait-timeout`},
		{"zero wait timeout", with("--wait", "--wait-timeout", "0s"), "", "enqueue: --wait-timeout: must be positive"},
		{"at and in", with("--at", "2099-01-01T00:00:00Z", "--in", "90m"), "", "enqueue: --at and --in: give one of them, not both"},
		{"at in the past", with("--at", "2020-01-01T00:00:00Z"), "", "enqueue: --at: invalid schedule: 2020-01-01T00:00:00Z is in the past"},
		{"at more than 30 days ahead", with("--at", time.Now().Add(31*24*time.Hour).UTC().Format(time.RFC3339)), "", "enqueue: --at: invalid schedule:"},
		{"at not RFC 3339", with("--at", "2026-12-02 03:00"), "", `enqueue: --at: "2026-12-02 03:00" is not an RFC 3339 time`},
		{"at without a zone", []string{"--file", good, "--at", "2099-12-02T03:00:00"}, "", "enqueue: --at:"},
		{"in negative", with("--in", "-5m"), "", "enqueue: --in: invalid schedule: -5m0s is negative"},
		{"in more than 30 days", with("--in", "721h"), "", "enqueue: --in: invalid schedule: 721h0m0s is more than 30 days ahead"},
		{"in not a duration", with("--in", "tomorrow"), "", `invalid value "tomorrow" for flag -in`},
		{"bad redis url", with("--redis-url", "http://:hunter2-secret@127.0.0.1/0"), "", "enqueue: --redis-url: cannot parse http://:xxxxx@127.0.0.1/0"},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				r := runCmd(t, s.URL(0), tc.stdin, tc.args...)
				r.wantCode(t, 2)
				if r.stdout != "" || !strings.Contains(r.stderr, tc.stderr) {
					t.Fatalf("stdout %q, stderr %q; want no stdout and stderr with %q", r.stdout, r.stderr, tc.stderr)
				}
				if strings.Contains(r.stderr, "hunter2-secret") {
					t.Fatalf("stderr shows the Redis password: %q", r.stderr)
				}
			})
		}
	})
	wantNoQueues(t, inspector(t, s))
}
