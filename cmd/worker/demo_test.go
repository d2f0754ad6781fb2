package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"essworker/internal/logcapture"
	"essworker/internal/notify"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// TestDemo runs `worker --demo` in process: the sample jobs end as the README
// shows (a sync detach, a split async detach of two jobs, a load balancer not
// attached), each job's notice reaches the demo's receiver with a valid
// signature, the next steps are printed, and the demo stops cleanly when its
// context ends.
func TestDemo(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"--demo", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr logcapture.Buffer
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, o.cfg, &stdout, &stderr) }()

	notice := regexp.MustCompile(`(?m)^notice: (detach:\S+) (completed|archived) \((\w+)\), signature verified, delivery \S+$`)
	sharedtest.WaitFor(t, "the sample jobs' results, their 4 notices and the next steps", 60*time.Second, func() (bool, string) {
		out := stdout.String()
		n := len(notice.FindAllString(out, -1))
		return n == 4 && strings.Contains(out, "Ctrl-C stops the demo."), strconv.Itoa(n) + " notices; stdout:\n" + out
	})
	out := stdout.String()
	for _, want := range []string{
		"essworker demo: embedded Redis at redis://127.0.0.1:",
		", notices to http://127.0.0.1:",
		"enqueued 4 sample jobs; waiting for their results...",
		`"group":"asg-demo-1","load_balancers":["lb-demo-1"],"outcome":"detached","state":"completed"`,
		`"group":"asg-demo-3","load_balancers":["lb-not-attached"],"outcome":"not_attached","state":"completed"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, `"group":"asg-demo-2"`); n != 2 || strings.Count(out, `"status":"Successful"`) != 2 {
		t.Errorf("stdout has %d results of asg-demo-2, want its 2 async jobs, each Successful:\n%s", n, out)
	}
	outcomes := map[string]int{}
	for _, m := range notice.FindAllStringSubmatch(out, -1) {
		if m[2] != "completed" {
			t.Errorf("notice of %s: state %s, want completed", m[1], m[2])
		}
		outcomes[m[3]]++
	}
	if outcomes[tasks.OutcomeDetached] != 3 || outcomes[tasks.OutcomeNotAttached] != 1 {
		t.Errorf("notices' outcomes %v, want 3 detached and 1 not_attached", outcomes)
	}
	if strings.Contains(out, "notice refused") {
		t.Errorf("a notice was refused:\n%s", out)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo ended with %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30 s of its context's end")
	}
}

// TestDemoReceiverRefusesBadSignature: the demo's receiver answers 401 to a
// notice whose signature is not its secret's, and says so, and 204 to the
// same notice signed with its secret.
func TestDemoReceiverRefusesBadSignature(t *testing.T) {
	t.Parallel()
	var out logcapture.Buffer
	rcv, err := startDemoReceiver(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	secret, err := notify.ReadSecret(rcv.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"essworker.job.finished","task_id":"detach:t","client_token":"t","queue":"default","state":"completed","result":{"Outcome":"detached"},"time":"2026-12-02T08:00:00Z"}`)
	post := func(signature string) int {
		req, err := http.NewRequest(http.MethodPost, rcv.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(notify.HeaderSignature, signature)
		req.Header.Set(notify.HeaderDelivery, "d-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(notify.Sign([]byte("another secret"), body)); code != http.StatusUnauthorized {
		t.Errorf("a notice signed with another secret: %d, want 401", code)
	}
	if code := post(notify.Sign(secret, body)); code != http.StatusNoContent {
		t.Errorf("a notice signed with the secret: %d, want 204", code)
	}
	want := "notice refused: its signature does not match the secret\n" +
		"notice: detach:t completed (detached), signature verified, delivery d-1\n"
	if got := out.String(); got != want {
		t.Errorf("receiver printed %q, want %q", got, want)
	}
}
