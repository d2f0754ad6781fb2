package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"essworker/internal/apiserver"
	"essworker/internal/worker"
	"essworker/tasks"
)

// apiClients is how many producers submit at once in P6.
const apiClients = 16

// apiBenchToken is the bearer token of the bench's API client.
const apiBenchToken = "bench-token-0123456789abcdef"

// runAPI measures P6: submissions per second through the producer API (one
// job each, apiClients concurrent HTTP clients, bearer authentication, the
// cross-queue duplicate check) against tasks.Enqueue called directly by as
// many goroutines on the same Redis, alternating, in this run. A third side,
// for reference, sends the same requests from the same clients to an HTTP
// handler that reads the body and answers a fixed 202: what HTTP alone costs
// on this machine, and so the most the API could reach.
func runAPI(ctx context.Context, env *benchEnv) result {
	s := env.sizes
	srv, stop, err := startAPI(ctx, env)
	if err != nil {
		return result{err: err}
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: apiClients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	direct := asynq.NewClient(env.redis.opt)
	defer direct.Close()
	noop, err := startNoopHTTP()
	if err != nil {
		return result{err: err}
	}
	defer noop.Close()
	var viaAPI, viaDirect, viaNoop, apiCmds, directCmds []float64
	var apiCPU, directCPU, noopCPU cpuSamples
	for rep := range s.apiReps {
		d, err := measureSubmissions(ctx, env, fmt.Sprintf("direct%d", rep), s.apiSubmissions, func(ctx context.Context, queue string, p tasks.DetachPayload) error {
			_, err := tasks.Enqueue(ctx, direct, p, asynq.Queue(queue))
			return err
		})
		if err != nil {
			return result{err: fmt.Errorf("tasks.Enqueue: %w", err)}
		}
		a, err := measureSubmissions(ctx, env, fmt.Sprintf("api%d", rep), s.apiSubmissions, func(ctx context.Context, queue string, p tasks.DetachPayload) error {
			return submit(ctx, client, srv.URL(), queue, p)
		})
		if err != nil {
			return result{err: fmt.Errorf("producer API: %w", err)}
		}
		h, err := measureSubmissions(ctx, env, fmt.Sprintf("noop%d", rep), s.apiSubmissions, func(ctx context.Context, queue string, p tasks.DetachPayload) error {
			return submit(ctx, client, "http://"+noop.Addr, queue, p)
		})
		if err != nil {
			return result{err: fmt.Errorf("no-op HTTP handler: %w", err)}
		}
		viaDirect, viaAPI, viaNoop = append(viaDirect, d.perSecond()), append(viaAPI, a.perSecond()), append(viaNoop, h.perSecond())
		directCmds, apiCmds = append(directCmds, d.commandsPerJob()), append(apiCmds, a.commandsPerJob())
		apiCPU.add(a)
		directCPU.add(d)
		noopCPU.add(h)
	}
	a, d, h := median(viaAPI), median(viaDirect), median(viaNoop)
	res := result{rows: []row{
		atLeast("P6", "submissions/s through the producer API", a, d, 0.5, perSecond, "tasks.Enqueue direct"),
		reference("P6", "requests/s to a no-op HTTP handler, same clients", h, d, perSecond, "tasks.Enqueue direct"),
		reference("P6", "producer API against the no-op HTTP handler", a, h, perSecond, "no-op HTTP"),
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d submissions of one job each per measurement, %d concurrent clients on each side, %d measurements of each side alternating, medians kept: API %v, tasks.Enqueue %v, no-op HTTP %v (submissions/s)",
			s.apiSubmissions, apiClients, s.apiReps, roundAll(viaAPI), roundAll(viaDirect), roundAll(viaNoop)),
		fmt.Sprintf("Redis commands per submission (Lua scripts' inner commands included): API %.1f (one script per batch of submissions: the look-up of each token in every queue and the writes of the new jobs), tasks.Enqueue %.1f",
			median(apiCmds), median(directCmds)),
		fmt.Sprintf("CPU time per submission, this process (the 16 clients, and the API or the handler) + the Redis server, medians (steadier than submissions/s when other work shares the machine): API %s, tasks.Enqueue %s, no-op HTTP %s",
			apiCPU, directCPU, noopCPU),
		"the API runs in the bench process (internal/apiserver, bearer token, JSON over HTTP/1.1 keep-alive on loopback) and shares the 2 cores with its clients",
		"no-op HTTP: the same requests from the same clients to a loopback net/http server whose handler reads the body and answers the API's 202 body at once, touching no Redis: the ceiling HTTP itself leaves on this machine",
	)
	return res
}

// startAPI runs the producer API on the bench's Redis with one client in its
// tokens file, logging nowhere.
func startAPI(ctx context.Context, env *benchEnv) (*apiserver.Server, func(), error) {
	tokens := filepath.Join(env.tmp, "api-tokens")
	if err := os.WriteFile(tokens, []byte("bench:"+apiBenchToken+"\n"), 0o600); err != nil {
		return nil, nil, err
	}
	srv, err := apiserver.New(ctx, apiserver.Config{Addr: "127.0.0.1:0", RedisURL: env.redis.url, TokensFile: tokens, LogLevel: "error"},
		worker.NewLogger(io.Discard, "error", "json"))
	if err != nil {
		return nil, nil, fmt.Errorf("start the producer API: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	return srv, func() { cancel(); <-done }, nil
}

// submit posts one request to the API and expects it queued.
func submit(ctx context.Context, c *http.Client, base, queue string, p tasks.DetachPayload) error {
	body := fmt.Sprintf(`{"ScalingGroupId":%q,"LoadBalancerIds":[%q],"ClientToken":%q}`, p.ScalingGroupId, p.LoadBalancerIds[0], p.ClientToken)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/detach-jobs?queue="+queue, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+apiBenchToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("answer %d %s", resp.StatusCode, answer)
	}
	return nil
}

// measureSubmissions makes n submissions of one job each, from apiClients
// goroutines, into a queue of its own (dropped after), and times them.
func measureSubmissions(ctx context.Context, env *benchEnv, name string, n int, submitOne func(context.Context, string, tasks.DetachPayload) error) (runFigures, error) {
	queue := env.queue(name)
	defer env.redis.dropQueue(queue)
	jobs := make([]tasks.DetachPayload, n)
	for i := range jobs {
		jobs[i] = tasks.DetachPayload{ScalingGroupId: env.groupPrefix(name), LoadBalancerIds: []string{"lb-1"},
			ClientToken: fmt.Sprintf("%s-%s-%06d", env.runID, name, i)}
	}
	commands, err := countCommands(ctx, env.redis)
	if err != nil {
		return runFigures{}, err
	}
	cpu, err := countCPU(ctx, env.redis)
	if err != nil {
		return runFigures{}, err
	}
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for range apiClients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := submitOne(ctx, queue, jobs[i]); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("submission %d: %w", i, err) })
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(began)
	if firstErr != nil {
		return runFigures{}, firstErr
	}
	used, err := cpu()
	if err != nil {
		return runFigures{}, err
	}
	cmds, err := commands()
	if err != nil {
		return runFigures{}, err
	}
	return runFigures{n: n, d: d, commands: cmds, cpu: used}, nil
}

// noopAnswer is what the no-op handler answers: a submission's 202, as the API
// writes it.
const noopAnswer = `{"jobs":[{"task_id":"detach:x","client_token":"x","queue":"default","state":"enqueued"}]}` + "\n"

// noopHTTP is a loopback HTTP server whose handler reads the body and answers
// noopAnswer.
type noopHTTP struct {
	Addr string
	srv  *http.Server
}

func startNoopHTTP() (*noopHTTP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("no-op HTTP handler: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, noopAnswer)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &noopHTTP{Addr: ln.Addr().String(), srv: srv}, nil
}

// Close stops the server.
func (n *noopHTTP) Close() { _ = n.srv.Close() }
