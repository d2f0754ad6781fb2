package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/internal/logcapture"
	"essworker/internal/redistest"
	"essworker/internal/worker"
	"essworker/tasks"
)

// Tokens of the tests' tokens files. Every test's logs are checked for them.
const (
	tokenCI     = "ci-token-0123456789abcdef"
	tokenBot    = "bot-token-fedcba9876543210"
	tokenRotate = "rotated-token-00112233445566"
)

// requestTimeout bounds one request of a test.
const requestTimeout = 20 * time.Second

// testAPI is a running Server for one test, on a Redis of its own.
type testAPI struct {
	*Server
	redis  *redistest.Server
	logs   *logcapture.Buffer
	insp   *asynq.Inspector
	tokens string // the tokens file
}

// ownServer is a second Server on a test's Redis and config, which the
// test shuts down itself: cancel ends Run's context, wait checks Run's end.
type ownServer struct {
	*testAPI
	cancel context.CancelFunc
	done   chan error
}

// runOwn starts an ownServer on a's config; edit, when set, changes the
// Server before it runs.
func (a *testAPI) runOwn(t testing.TB, edit func(*Server)) *ownServer {
	t.Helper()
	s, err := New(context.Background(), a.cfg, a.log)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := &ownServer{testAPI: &testAPI{Server: s}, cancel: cancel, done: make(chan error, 1)}
	go func() { o.done <- s.Run(ctx) }()
	return o
}

// wait fails t unless Run returns nil.
func (o *ownServer) wait(t testing.TB) {
	t.Helper()
	if err := <-o.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// startAPI runs a Server for t with the tokens file content tokens (the
// default clients ci and bot when empty), changed by edit, until t ends. At
// the end, it fails t if a token appears in the logs.
func startAPI(t testing.TB, tokens string, edit func(*Config)) *testAPI {
	t.Helper()
	if tokens == "" {
		tokens = "# test clients\nci:" + tokenCI + "\n\nbot:" + tokenBot + "\n"
	}
	rs := redistest.Start(t, redistest.Options{})
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Addr: "127.0.0.1:0", RedisURL: rs.URL(0), TokensFile: file, LogLevel: "debug"}
	if edit != nil {
		edit(&cfg)
	}
	logs := &logcapture.Buffer{}
	s, err := New(context.Background(), cfg, worker.NewLogger(logs, cfg.LogLevel, "json"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.waitPoll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		_ = insp.Close()
		for _, tok := range []string{tokenCI, tokenBot, tokenRotate} {
			if strings.Contains(logs.String(), tok) {
				t.Errorf("a token appears in the logs:\n%s", logs.String())
			}
		}
	})
	return &testAPI{Server: s, redis: rs, logs: logs, insp: insp, tokens: file}
}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the one shape of the error answers.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// do sends a request with the bearer token (none when empty) and, for a
// body, Content-Type application/json.
func (a *testAPI) do(t testing.TB, method, path, token, body string) answer {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return a.doWith(t, method, path, token, ct, strings.NewReader(body))
}

// doWith is do with an explicit Content-Type and body reader.
func (a *testAPI) doWith(t testing.TB, method, path, token, contentType string, body io.Reader) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantError fails t unless the answer is status with an error of code (and
// field, when not empty) in the API's one error shape.
func (r answer) wantError(t testing.TB, status int, code, field string) errorBody {
	t.Helper()
	var e errorBody
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || r.status != status || e.Error.Code != code || e.Error.Message == "" || e.Error.Field != field {
		t.Fatalf("answer %d %s (%v); want %d with code %s, a message and field %q", r.status, r.body, err, status, code, field)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error answer Content-Type %q", ct)
	}
	return e
}

// jobs decodes a submission's answer, after checking its status.
func (r answer) jobs(t testing.TB, status int) []tasks.EnqueueResult {
	t.Helper()
	if r.status != status {
		t.Fatalf("answer %d %s; want %d", r.status, r.body, status)
	}
	var a struct {
		Jobs []tasks.EnqueueResult `json:"jobs"`
	}
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	return a.Jobs
}

// queueSize is how many tasks queue holds in any state (0 for no queue).
func (a *testAPI) queueSize(t testing.TB, queue string) int {
	t.Helper()
	info, err := a.insp.GetQueueInfo(queue)
	if err != nil {
		return 0
	}
	return info.Size
}

// totalTasks is how many tasks all queues hold.
func (a *testAPI) totalTasks(t testing.TB) int {
	t.Helper()
	queues, err := a.insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range queues {
		n += a.queueSize(t, q)
	}
	return n
}

// discardLogger logs nowhere.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
