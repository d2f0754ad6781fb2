package worker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
	"essworker/internal/redisconn"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/internal/worker"
	"essworker/internal/workertest"
	"essworker/tasks"
)

// redisLogs receives go-redis's own log lines (dial failures, pool events)
// from every test of the package, for the secret search; they go on to
// stderr as before. The logger is set before any test runs, since go-redis
// reads it unguarded.
var redisLogs = &logcapture.Buffer{}

type goRedisLogger struct{ w io.Writer }

func (l goRedisLogger) Printf(_ context.Context, format string, v ...any) {
	fmt.Fprintf(l.w, format+"\n", v...)
}

func TestMain(m *testing.M) {
	redis.SetLogger(goRedisLogger{io.MultiWriter(os.Stderr, redisLogs)})
	os.Exit(m.Run())
}

// Secrets of the leak test: distinctive, and with characters that percent-
// and query-encoding change, so every encoded form is searched for too.
const (
	leakAKID        = "LTAISecurityTestKey"
	leakSecret      = "S3cr3t-Do-Not-Leak-Q7x+/=k8"
	leakWrongSecret = "Wr0ng-S3cr3t-Do-Not-Leak-P2m+/=z1"
	leakSTS         = "STS-Token-Do-Not-Leak-Z9w+/=r4"
	leakRedisPass   = "Redis-Pass-Do-Not-Leak-R3d"
	leakHookSecret  = "Hook-Secret-Do-Not-Leak-W8v+/=h2"
	leakHookPass    = "Hook-Pass-Do-Not-Leak-U6"
)

// leakNeedles lists what must never be found, lower-cased: each secret raw
// and in every encoding the SDK or a URL may give it, their common core
// (which survives any percent-encoding), and the credential parameters of a
// signed request, plain and percent-encoded as in a string to sign.
func leakNeedles() []string {
	needles := []string{"Do-Not-Leak"}
	for _, s := range []string{leakSecret, leakWrongSecret, leakSTS, leakRedisPass, leakHookSecret, leakHookPass} {
		once := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
		needles = append(needles, s, url.QueryEscape(s), url.PathEscape(s), once, strings.ReplaceAll(once, "%", "%25"))
	}
	for _, p := range []string{"Signature", "AccessKeyId", "SecurityToken"} {
		needles = append(needles, p+"=", p+"%3D", p+"%253D")
	}
	for i, n := range needles {
		needles[i] = strings.ToLower(n)
	}
	slices.Sort(needles)
	return slices.Compact(needles)
}

// evidence is every piece of text the worker produced, by where it came from.
type evidence struct {
	mu    sync.Mutex
	texts map[string]string // text -> where
}

func (e *evidence) add(where, text string) {
	if text == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.texts == nil {
		e.texts = map[string]string{}
	}
	if _, ok := e.texts[text]; !ok {
		e.texts[text] = where
	}
}

// leaks describes every needle found in the evidence, with its context.
func (e *evidence) leaks() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	needles := leakNeedles()
	var found []string
	for text, where := range e.texts {
		lower := strings.ToLower(text)
		for _, n := range needles {
			if i := strings.Index(lower, n); i >= 0 {
				lo, hi := max(0, i-80), min(len(text), i+len(n)+80)
				found = append(found, fmt.Sprintf("%s holds %q: ...%s...", where, n, text[lo:hi]))
			}
		}
	}
	slices.Sort(found)
	return found
}

// TestLeakSearchFindsEveryForm shows that the search of TestNoSecretLeaks is
// not blind: it finds each secret in each encoding and each credential
// parameter, and passes what the worker legitimately writes.
func TestLeakSearchFindsEveryForm(t *testing.T) {
	t.Parallel()
	percent := func(s string) string {
		return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
	}
	var leaky []string
	for _, s := range []string{leakSecret, leakWrongSecret, leakSTS, leakRedisPass, leakHookSecret, leakHookPass} {
		leaky = append(leaky, s, url.QueryEscape(s), url.PathEscape(s), percent(s), percent(percent(s)), strings.ToUpper(s))
	}
	leaky = append(leaky,
		`Get "http://127.0.0.1:1/?AccessKeyId=x&Action=DetachLoadBalancers"`,
		"signature=abc", "POST&%2F&AccessKeyId%3DLTAI%26Action%3DX", "%26SecurityToken%253Dabc",
	)
	for _, text := range leaky {
		ev := &evidence{}
		ev.add("probe", "before "+text+" after")
		if len(ev.leaks()) == 0 {
			t.Errorf("the search misses %q", text)
		}
	}
	clean := &evidence{}
	for _, text := range []string{
		"ess DetachLoadBalancers: SignatureDoesNotMatch (HTTP 400, request 1): Specified signature is not matched with our calculation. server string to sign is: [redacted]",
		`{"level":"WARN","msg":"ess call failed","err":"ess DetachLoadBalancers: network: Post \"http://127.0.0.1:1/\": EOF"}`,
		"redis://:xxxxx@127.0.0.1:6379/0", "SignatureNonce", leakAKID,
	} {
		clean.add("probe", text)
	}
	if found := clean.leaks(); len(found) != 0 {
		t.Errorf("the search flags clean text: %v", found)
	}
}

// collectTasks adds the ID, payload, last error and result of every task of
// the queues, in every state, to ev.
func collectTasks(t *testing.T, insp *asynq.Inspector, ev *evidence, queues ...string) {
	t.Helper()
	type lister func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	listers := map[string]lister{
		"pending": insp.ListPendingTasks, "active": insp.ListActiveTasks, "scheduled": insp.ListScheduledTasks,
		"retry": insp.ListRetryTasks, "archived": insp.ListArchivedTasks, "completed": insp.ListCompletedTasks,
	}
	for _, q := range queues {
		for state, list := range listers {
			infos, err := list(q, asynq.PageSize(1000))
			if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
				t.Fatalf("list %s tasks of %s: %v", state, q, err)
			}
			for _, info := range infos {
				where := fmt.Sprintf("task %s (%s)", info.ID, state)
				ev.add(where+" LastErr", info.LastErr)
				ev.add(where+" Result", string(info.Result))
				ev.add(where+" Payload", string(info.Payload))
			}
		}
	}
}

// collectRedis adds every key of database 0 and its value to ev.
func collectRedis(t *testing.T, ctx context.Context, rdb *redis.Client, ev *evidence) {
	t.Helper()
	var cursor uint64
	for range 10_000 { // a bound far above the few hundred keys of the test
		keys, next, err := rdb.Scan(ctx, cursor, "*", 100).Result()
		if err != nil {
			t.Fatalf("SCAN: %v", err)
		}
		for _, k := range keys {
			ev.add("Redis key", k)
			typ, err := rdb.Type(ctx, k).Result()
			if err != nil {
				t.Fatalf("TYPE %s: %v", k, err)
			}
			var vals []string
			switch typ {
			case "string":
				v, err := rdb.Get(ctx, k).Result()
				if err != nil && !errors.Is(err, redis.Nil) {
					t.Fatalf("GET %s: %v", k, err)
				}
				vals = []string{v}
			case "hash":
				m, err := rdb.HGetAll(ctx, k).Result()
				if err != nil {
					t.Fatalf("HGETALL %s: %v", k, err)
				}
				for f, v := range m {
					vals = append(vals, f, v)
				}
			case "list":
				vals, err = rdb.LRange(ctx, k, 0, -1).Result()
			case "set":
				vals, err = rdb.SMembers(ctx, k).Result()
			case "zset":
				vals, err = rdb.ZRange(ctx, k, 0, -1).Result()
			case "none": // expired between SCAN and TYPE
			default:
				t.Fatalf("key %s has type %s, which the test does not read", k, typ)
			}
			if err != nil {
				t.Fatalf("read %s %s: %v", typ, k, err)
			}
			for _, v := range vals {
				ev.add("Redis value of "+k, v)
			}
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
	t.Fatal("SCAN did not end")
}

// TestNoSecretLeaks runs two workers at debug level, one with the right and one
// with a wrong access key secret (both with an STS token), on a Redis with a
// password, while the emulator delays answers past the call timeout, fails
// calls with 503, 500 and Throttling.User, and loses answers; jobs also fail
// for good (unknown group, invalid payload, bad signature). The right one
// sends job notices to a receiver whose URL carries a password and that
// answers 503 until the faults end. Then it searches every log line, every
// task's payload, last error and result, all of Redis and both /metrics pages
// for the secrets (the notices' HMAC secret among them) and credential
// parameters.
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rs := redistest.Start(t, redistest.Options{Password: leakRedisPass})
	emuLogs := &logcapture.Buffer{}
	emu := esstest.NewServer(esstest.Config{
		AccessKeys:       map[string]string{leakAKID: leakSecret},
		ActivityDuration: 300 * time.Millisecond,
		Logger:           worker.NewLogger(emuLogs, "info", "json"),
	})
	t.Cleanup(emu.Close)
	const groups = 10
	for i := range groups {
		g := esstest.ScalingGroup{ScalingGroupId: fmt.Sprintf("asg-sec-%d", i), LoadBalancerIds: []string{"lb-a", "lb-b"}}
		if err := emu.AddScalingGroup(g); err != nil {
			t.Fatal(err)
		}
	}

	var hookUp atomic.Bool
	var hookCalls, hookDelivered atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hookCalls.Add(1)
		if !hookUp.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		hookDelivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	hookSecretFile := filepath.Join(t.TempDir(), "notify-secret")
	if err := os.WriteFile(hookSecretFile, []byte(leakHookSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	logs := &logcapture.Buffer{}
	const essTimeout = 300 * time.Millisecond
	cfg := worker.Config{
		RedisURL: rs.URL(0), ESSEndpoint: emu.URL, MetricsAddr: "127.0.0.1:0", ESSQPS: 500, ESSTimeout: essTimeout,
		PollInterval: 100 * time.Millisecond, DelayedCheck: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
		LogLevel: "debug", LogFormat: "json",
	}
	goodCfg := cfg
	goodCfg.NotifyURL = strings.Replace(hook.URL, "http://", "http://hook:"+url.PathEscape(leakHookPass)+"@", 1) + "/essworker"
	goodCfg.NotifySecretFile = hookSecretFile
	good := workertest.Run(t, goodCfg, essclient.StaticCredentials(leakAKID, leakSecret, leakSTS), logs)
	const wrongQueue = "wrongsecret"
	wrongCfg := cfg
	wrongCfg.Queues = wrongQueue
	wrong := workertest.Run(t, wrongCfg, essclient.StaticCredentials(leakAKID, leakWrongSecret, leakSTS), logs)

	redisOpt, rdb, err := redisconn.Open(rs.URL(0), redisconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	client, insp := asynq.NewClientFromRedisClient(rdb), asynq.NewInspector(redisOpt)
	t.Cleanup(func() { _ = insp.Close() })
	queues := []string{tasks.DefaultQueue, wrongQueue}
	ev := &evidence{}
	hurry := func() {
		for _, q := range queues {
			_, _ = insp.RunAllRetryTasks(q) // skip the backoff: the test drives the pace
		}
		collectTasks(t, insp, ev, queues...) // catches the last errors of retries on the way
	}
	calls := func(code string) int { return emu.Stats().Calls[essclient.ActionDetachLoadBalancers][code] }

	// Phase 1: every answer comes after the call timeout.
	if err := emu.SetFaults(esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(4 * essTimeout)}}); err != nil {
		t.Fatal(err)
	}
	var payloads []tasks.DetachPayload
	for i := range groups {
		payloads = append(payloads, tasks.DetachPayload{ScalingGroupId: fmt.Sprintf("asg-sec-%d", i), LoadBalancerIds: []string{"lb-a"}, Async: i%2 == 0})
	}
	payloads = append(payloads,
		tasks.DetachPayload{ScalingGroupId: "asg-sec-0", LoadBalancerIds: []string{"lb-not-attached"}},
		tasks.DetachPayload{ScalingGroupId: "asg-unknown", LoadBalancerIds: []string{"lb-a"}},
	)
	var jobs []tasks.EnqueueResult
	for _, p := range payloads {
		res, err := tasks.Enqueue(ctx, client, p)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, res...)
	}
	for i := range 2 {
		p := tasks.DetachPayload{ScalingGroupId: fmt.Sprintf("asg-wrong-%d", i), LoadBalancerIds: []string{"lb-b"}}
		res, err := tasks.Enqueue(ctx, client, p, asynq.Queue(wrongQueue))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, res...)
	}
	invalid, err := client.Enqueue(asynq.NewTask(tasks.TypeDetachLoadBalancers, []byte(`{"ScalingGroupId":"asg-sec-1","LoadBalancerIds":[],"Bogus":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	jobs = append(jobs, tasks.EnqueueResult{TaskID: invalid.ID, Queue: invalid.Queue})
	sharedtest.WaitFor(t, "calls abandoned at the timeout", 20*time.Second, func() (bool, string) {
		hurry()
		n := strings.Count(emuLogs.String(), `"client_gone":true`)
		return n >= 4, fmt.Sprint(n, " abandoned")
	})

	// Phase 2: errors with ESS's own statuses, then lost answers.
	errorCodes := []string{esstest.CodeServiceUnavailable, esstest.CodeInternalError, esstest.CodeThrottlingUser}
	if err := emu.SetFaults(esstest.FaultPlan{esstest.AllActions: {ErrorRate: 1, ErrorCodes: errorCodes}}); err != nil {
		t.Fatal(err)
	}
	sharedtest.WaitFor(t, "every injected error code answered", 20*time.Second, func() (bool, string) {
		hurry()
		for _, c := range errorCodes {
			if calls(c) == 0 {
				return false, "no " + c
			}
		}
		return true, ""
	})
	if err := emu.SetFaults(esstest.FaultPlan{esstest.AllActions: {LostAnswerRate: 1}}); err != nil {
		t.Fatal(err)
	}
	sharedtest.WaitFor(t, "answers lost", 20*time.Second, func() (bool, string) {
		hurry()
		n := calls(esstest.CodeLostAnswer)
		return n >= 3, fmt.Sprint(n, " lost")
	})

	// Phase 3: no faults; every job ends.
	if err := emu.SetFaults(esstest.FaultPlan{}); err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	sharedtest.WaitFor(t, "every job ended", 30*time.Second, func() (bool, string) {
		hurry()
		clear(states)
		for _, j := range jobs {
			info, err := insp.GetTaskInfo(j.Queue, j.TaskID)
			if err != nil {
				t.Fatalf("task %s: %v", j.TaskID, err)
			}
			states[info.State.String()]++
		}
		return states["completed"]+states["archived"] == len(jobs), fmt.Sprint(states)
	})
	t.Logf("job states: %v; emulator calls: %v", states, emu.Stats().Calls)

	// The notices of the default queue's jobs, refused until now, get through.
	hookUp.Store(true)
	ended := 0
	for _, j := range jobs {
		if j.Queue == tasks.DefaultQueue {
			ended++
		}
	}
	sharedtest.WaitFor(t, "every notice delivered", 30*time.Second, func() (bool, string) {
		hurry()
		return hookDelivered.Load() == int64(ended), fmt.Sprint(hookDelivered.Load(), " of ", ended, " delivered")
	})
	if hookCalls.Load() == hookDelivered.Load() {
		t.Error("the receiver refused no notice: the failed deliveries were not searched")
	}
	if calls(esstest.CodeSignatureDoesNotMatch) == 0 {
		t.Error("the wrong secret never met SignatureDoesNotMatch")
	}
	if calls("OK") == 0 || states["completed"] == 0 || states["archived"] < 4 {
		t.Errorf("want completed jobs and at least 4 archived (unknown group, invalid, 2 bad signatures); got %v", states)
	}

	collectTasks(t, insp, ev, queues...)
	collectRedis(t, ctx, rs.Client(t), ev)
	for _, w := range []*worker.Worker{good, wrong} {
		code, body, err := workertest.Get("http://" + w.MetricsAddr() + "/metrics")
		if err != nil || code != http.StatusOK {
			t.Fatalf("/metrics: %d %v", code, err)
		}
		ev.add("/metrics of "+w.MetricsAddr(), body)
		if w == good && metric(t, body, "essworker_ess_requests_total", map[string]string{"code": essclient.CodeNetwork}) == 0 {
			t.Error("/metrics counts no network failure: the timeouts and lost answers did not reach the worker")
		}
		if w == good && metric(t, body, "essworker_notifications_total", map[string]string{"outcome": "delivered"}) != float64(hookDelivered.Load()) {
			t.Errorf("/metrics counts %v notices delivered, the receiver %d", metric(t, body, "essworker_notifications_total", map[string]string{"outcome": "delivered"}), hookDelivered.Load())
		}
	}
	for i, line := range strings.Split(logs.String(), "\n") {
		ev.add(fmt.Sprintf("worker log line %d", i+1), line)
	}
	for i, line := range strings.Split(redisLogs.String(), "\n") {
		ev.add(fmt.Sprintf("go-redis log line %d", i+1), line)
	}
	for _, want := range []string{`"component":"asynq"`, `"level":"DEBUG"`, "SignatureDoesNotMatch", "ServiceUnavailable", "Throttling.User", "string to sign", "notice not delivered"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the worker logs hold no %q: the test did not see what it searches", want)
		}
	}
	for _, leak := range ev.leaks() {
		t.Error(leak)
	}
	t.Logf("searched %d distinct texts for %d needles", len(ev.texts), len(leakNeedles()))
}

// httpsChildEnv, set to a Redis URL, makes TestHTTPSIsTheDefaultTowardESS the
// child process that runs the worker.
const httpsChildEnv = "ESSWORKER_TEST_HTTPS_CHILD_REDIS"

// TestHTTPSIsTheDefaultTowardESS runs a worker with no --ess-endpoint and shows
// that its calls to ESS's regional endpoints are TLS from the first byte. The
// machine has no internet: the worker runs in a child process whose
// HTTPS_PROXY is a recording proxy on loopback (Go reads the proxy variables
// once per process). The proxy sees the CONNECT to ess.aliyuncs.com:443, then
// the first byte of the tunnel: 0x16, a TLS handshake. essclient's
// TestSchemeOnTheWire shows the same for essclient.Config alone.
func TestHTTPSIsTheDefaultTowardESS(t *testing.T) {
	if redisURL := os.Getenv(httpsChildEnv); redisURL != "" {
		httpsChild(t, redisURL)
		return
	}
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{Password: leakRedisPass})
	proxyAddr, seen := recordingProxy(t)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestHTTPSIsTheDefaultTowardESS$", "-test.v")
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToLower(name), "_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, httpsChildEnv+"="+rs.URL(0), "HTTPS_PROXY=http://"+proxyAddr, "HTTP_PROXY=http://"+proxyAddr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child worker: %v\n%s", err, out)
	}
	got := seen()
	t.Logf("proxy saw %v", got)
	for _, target := range []string{"ess.aliyuncs.com:443", "ess.eu-central-1.aliyuncs.com:443"} {
		if first, ok := got["CONNECT "+target]; !ok || first != 0x16 {
			t.Errorf("CONNECT %s: seen %v, first byte %#x; want a TLS handshake (0x16)", target, ok, first)
		}
	}
	for req := range got {
		if !strings.HasPrefix(req, "CONNECT ") {
			t.Errorf("the proxy saw a plain HTTP request %q: ESS was called without TLS", req)
		}
	}
	if strings.Contains(string(out), leakSecret) || strings.Contains(string(out), "Signature=") {
		t.Errorf("child output holds a credential:\n%s", out)
	}
}

// httpsChild is the child side: a worker with the default endpoint, two jobs
// in an old and a newer region; it returns once both have been tried.
func httpsChild(t *testing.T, redisURL string) {
	logs := &logcapture.Buffer{}
	cfg := worker.Config{
		RedisURL: redisURL, ESSEndpoint: "", Region: "cn-hangzhou", MetricsAddr: "127.0.0.1:0", ESSTimeout: 2 * time.Second,
		DelayedCheck: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second, LogLevel: "debug",
	}
	workertest.Run(t, cfg, essclient.StaticCredentials(leakAKID, leakSecret, leakSTS), logs)
	opt, rdb, err := redisconn.Open(redisURL, redisconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	client, insp := asynq.NewClientFromRedisClient(rdb), asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })
	var jobs []tasks.EnqueueResult
	for _, region := range []string{"", "eu-central-1"} {
		res, err := tasks.Enqueue(context.Background(), client, tasks.DetachPayload{RegionId: region, ScalingGroupId: "asg-in-" + region, LoadBalancerIds: []string{"lb-x"}})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, res...)
	}
	sharedtest.WaitFor(t, "both jobs tried", 30*time.Second, func() (bool, string) {
		for _, j := range jobs {
			info, err := insp.GetTaskInfo(j.Queue, j.TaskID)
			if err != nil || info.LastErr == "" {
				return false, fmt.Sprintf("job %s: %v", j.TaskID, err)
			}
			t.Logf("job %s: %s", j.TaskID, info.LastErr)
		}
		return true, ""
	})
}

// recordingProxy is an HTTP proxy on loopback that records each request line
// (such as "CONNECT host:443") with the first byte the client sends after
// it, then closes the connection. seen returns what it recorded.
func recordingProxy(t *testing.T) (addr string, seen func() map[string]byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got = map[string]byte{}
		wg  sync.WaitGroup
	)
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed at cleanup
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(conn)
				req, err := http.ReadRequest(r)
				if err != nil {
					return
				}
				line := req.Method + " " + req.RequestURI
				var first byte
				if req.Method == http.MethodConnect {
					if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
						return
					}
					first, _ = r.ReadByte()
				}
				mu.Lock()
				got[line] = first
				mu.Unlock()
			}()
		}
	}()
	return ln.Addr().String(), func() map[string]byte {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(got)
	}
}

// With DEBUG=sdk the Alibaba SDK would print every signed request to stdout;
// the worker refuses to start instead, and says which variable to unset.
func TestWorkerRefusesSDKDebugOutput(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	t.Setenv("DEBUG", "sdk")
	cfg := worker.Config{RedisURL: rs.URL(0), Region: esstest.DefaultRegionID, MetricsAddr: "127.0.0.1:0"}
	_, err := worker.New(context.Background(), cfg, nil, worker.NewLogger(io.Discard, "info", "json"))
	if err == nil {
		t.Fatal("worker.New succeeded with DEBUG=sdk")
	}
	if !errors.Is(err, essclient.ErrSDKDebug) || strings.Contains(err.Error(), "--ess-endpoint") {
		t.Fatalf("error %q: want essclient.ErrSDKDebug, not blamed on --ess-endpoint", err)
	}
}
