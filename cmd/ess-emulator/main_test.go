package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"

	"essworker/internal/sharedtest"
)

const testState = `{"AccessKeys": {"TESTAKID": "TESTSECRET"},
 "ScalingGroups": [{"ScalingGroupId": "asg-demo-1", "RegionId": "cn-hangzhou",
                    "LoadBalancerIds": ["lb-demo-1", "lb-demo-2", "lb-demo-3"]}]}`

// stsToken is sent as SecurityToken; it must never reach the logs.
const stsToken = "STS-TOKEN-MUST-NOT-BE-LOGGED"

// lockedBuffer collects the program's stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(line + "\n")
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startEmulator builds and starts the program and returns its base URL.
func startEmulator(t *testing.T) (*exec.Cmd, string, *lockedBuffer, <-chan struct{}) {
	t.Helper()
	dir := t.TempDir()
	paths, err := sharedtest.BuildBinaries(context.Background(), dir, nil, "essworker/cmd/ess-emulator")
	if err != nil {
		t.Fatal(err)
	}
	bin := paths[0]
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(state, []byte(testState), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--state", state, "--activity-duration", "300ms", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	logs := &lockedBuffer{}
	urls := make(chan string, 1)
	done := make(chan struct{})
	listening := regexp.MustCompile(`ess-emulator listening on (http://127\.0\.0\.1:[0-9]+)`)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.add(sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case url := <-urls:
		return cmd, url, logs, done
	case <-time.After(20 * time.Second):
		t.Fatalf("no listening line; logs:\n%s", logs)
	}
	return nil, "", nil, nil
}

func TestProgram(t *testing.T) {
	cmd, url, logs, logsDone := startEmulator(t)
	host := strings.TrimPrefix(url, "http://")

	ess.GetEndpointMap() // the SDK fills this global lazily; see esstest's tests
	client, err := ess.NewClientWithStsToken("cn-hangzhou", "TESTAKID", "TESTSECRET", stsToken)
	if err != nil {
		t.Fatal(err)
	}
	target := func(r *requests.RpcRequest) {
		r.Scheme, r.Domain = "http", host
		r.SetReadTimeout(10 * time.Second)
	}
	detach := func(async bool, lb string) (*ess.DetachLoadBalancersResponse, error) {
		req := ess.CreateDetachLoadBalancersRequest()
		target(req.RpcRequest)
		req.ScalingGroupId, req.LoadBalancer, req.Async = "asg-demo-1", &[]string{lb}, requests.NewBoolean(async)
		req.ClientToken = "token-" + lb
		return client.DetachLoadBalancers(req)
	}

	if _, err := detach(false, "lb-demo-1"); err != nil {
		t.Fatalf("sync detach: %v", err)
	}
	resp, err := detach(true, "lb-demo-2")
	if err != nil || resp.ScalingActivityId == "" {
		t.Fatalf("async detach: %+v, %v", resp, err)
	}
	sharedtest.WaitFor(t, "the activity ends Successful", 10*time.Second, func() (bool, string) {
		req := ess.CreateDescribeScalingActivitiesRequest()
		target(req.RpcRequest)
		req.ScalingActivityId = &[]string{resp.ScalingActivityId}
		got, err := client.DescribeScalingActivities(req)
		if err != nil || len(got.ScalingActivities.ScalingActivity) != 1 {
			t.Fatalf("DescribeScalingActivities: %+v, %v", got, err)
		}
		status := got.ScalingActivities.ScalingActivity[0].StatusCode
		return status == "Successful", status
	})

	var stats struct {
		Calls             map[string]map[string]int
		ActivitiesCreated int
		DetachesApplied   int
	}
	getJSON(t, url+"/_emulator/stats", &stats)
	if stats.DetachesApplied != 2 || stats.ActivitiesCreated != 1 || stats.Calls["DetachLoadBalancers"]["OK"] != 2 {
		t.Errorf("stats = %+v", stats)
	}

	postJSON(t, url+"/_emulator/faults", `{"DetachLoadBalancers":{"ErrorRate":1,"ErrorCodes":["InternalError"]}}`)
	_, err = detach(false, "lb-demo-3")
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.HttpStatus() != 500 || se.ErrorCode() != "InternalError" {
		t.Errorf("with ErrorRate 1: %v, want 500 InternalError", err)
	}
	postJSON(t, url+"/_emulator/faults", `{}`)
	if _, err := detach(false, "lb-demo-3"); err != nil {
		t.Errorf("after clearing the faults: %v", err)
	}

	postJSON(t, url+"/_emulator/scaling-groups", `{"ScalingGroupId":"asg-new","LoadBalancerIds":["lb-new"]}`)
	greq := ess.CreateDescribeScalingGroupsRequest()
	target(greq.RpcRequest)
	greq.ScalingGroupId = &[]string{"asg-new"}
	groups, err := client.DescribeScalingGroups(greq)
	if err != nil || groups.TotalCount != 1 || groups.ScalingGroups.ScalingGroup[0].LoadBalancerIds.LoadBalancerId[0] != "lb-new" {
		t.Errorf("DescribeScalingGroups(asg-new) = %+v, %v", groups, err)
	}

	// The group's own activity (an hour: it outlasts the test) is listed and
	// keeps the group busy.
	var own ess.ScalingActivity
	if err := json.Unmarshal(postJSON(t, url+"/_emulator/scaling-groups/asg-new/activities", `{"Duration":"1h","Description":"scale-out"}`), &own); err != nil {
		t.Fatal(err)
	}
	areq := ess.CreateDescribeScalingActivitiesRequest()
	target(areq.RpcRequest)
	areq.ScalingGroupId = "asg-new"
	listed, err := client.DescribeScalingActivities(areq)
	if err != nil || listed.TotalCount != 1 || listed.ScalingActivities.ScalingActivity[0].ScalingActivityId != own.ScalingActivityId ||
		listed.ScalingActivities.ScalingActivity[0].StatusCode != "InProgress" || listed.ScalingActivities.ScalingActivity[0].Description != "scale-out" {
		t.Errorf("DescribeScalingActivities(asg-new) = %+v, %v; want the group's own activity %s InProgress", listed, err, own.ScalingActivityId)
	}
	dreq := ess.CreateDetachLoadBalancersRequest()
	target(dreq.RpcRequest)
	dreq.ScalingGroupId, dreq.LoadBalancer = "asg-new", &[]string{"lb-new"}
	_, err = client.DetachLoadBalancers(dreq)
	if !errors.As(err, &se) || se.HttpStatus() != 400 || se.ErrorCode() != "ScalingActivityInProgress" {
		t.Errorf("detach during the group's own activity: %v, want 400 ScalingActivityInProgress", err)
	}
	var after struct{ ActivitiesCreated, GroupActivitiesCreated int }
	getJSON(t, url+"/_emulator/stats", &after)
	if after.ActivitiesCreated != 1 || after.GroupActivitiesCreated != 1 {
		t.Errorf("stats = %+v, want 1 activity of each kind", after)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-logsDone
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want 0", err)
	}

	out := logs.String()
	if n := strings.Count(out, `"msg":"ess call"`); n < 7 {
		t.Errorf("%d call log lines, want one per API call (at least 7):\n%s", n, out)
	}
	for _, secret := range []string{"TESTSECRET", "TESTAKID", stsToken, "Signature", "SecurityToken"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"action":"DetachLoadBalancers"`, `"code":"InternalError"`, `"request_id":"`, `"latency":`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
}

// postJSON posts body and returns the answer, failing the test unless it is 200.
func postJSON(t *testing.T, url, body string) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST %s %s: %d %s %v", url, body, resp.StatusCode, b, err)
	}
	return b
}

// TestRunErrors checks bad flags and state in-process: exit 2, with the reason.
func TestRunErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badState := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badState, []byte(`{"ScalingGroups":[{"ScalingGroupId":"a","LoadBalancerIds":["x","x"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no state", nil, "--state FILE is required"},
		{"missing file", []string{"--state", filepath.Join(dir, "nope.json")}, "no such file"},
		{"invalid state", []string{"--state", badState}, "LoadBalancerIds[1]"},
		{"bad duration", []string{"--state", badState, "--activity-duration", "0s"}, "--activity-duration"},
		{"bad log format", []string{"--state", badState, "--log-format", "xml"}, "--log-format"},
		{"unknown flag", []string{"--nope"}, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("run(%v) = %d, stderr %q; want %d mentioning %q", tt.args, code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}
