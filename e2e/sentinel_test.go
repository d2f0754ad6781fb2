package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient/esstest"
	"essworker/internal/sharedtest"
)

// masterName is the name the sentinels monitor the master under.
const masterName = "mymaster"

// sentinelSet is a master, one replica and three sentinels, on loopback.
type sentinelSet struct {
	master, replica string   // host:port of the Redis servers at the start
	sentinels       []string // host:port of the sentinels
}

// url is the worker's and enqueue's --redis-url for the set (asynq's syntax).
func (s *sentinelSet) url() string {
	return "redis-sentinel://" + strings.Join(s.sentinels, ",") + "?master=" + masterName
}

func (s *sentinelSet) connOpt() asynq.RedisFailoverClientOpt {
	return asynq.RedisFailoverClientOpt{MasterName: masterName, SentinelAddrs: s.sentinels}
}

// startSentinelSet starts the set and waits until every sentinel knows the
// replica and the two other sentinels, so that a failover can be agreed on.
func startSentinelSet(t *testing.T) *sentinelSet {
	t.Helper()
	serverPath, err1 := exec.LookPath("redis-server")
	sentinelPath, err2 := exec.LookPath("redis-sentinel")
	if err1 != nil || err2 != nil {
		t.Skip("needs redis-server and redis-sentinel on the PATH (Debian packages redis-server, redis-sentinel)")
	}
	addr := func() string {
		a, err := sharedtest.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	s := &sentinelSet{master: addr(), replica: addr()}
	redisArgs := func(a string) []string {
		_, port, _ := net.SplitHostPort(a)
		return []string{"--bind", "127.0.0.1", "--port", port, "--dir", t.TempDir(), "--save", "", "--appendonly", "no"}
	}
	startProc(t, "redis-master", serverPath, redisArgs(s.master), baseEnv())
	_, masterPort, _ := net.SplitHostPort(s.master)
	startProc(t, "redis-replica", serverPath, append(redisArgs(s.replica), "--replicaof", "127.0.0.1", masterPort), baseEnv())
	replica := redisClient(t, s.replica)
	sharedtest.WaitFor(t, "the replica syncs with the master", startTimeout, func() (bool, string) {
		info, err := replica.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up"), fmt.Sprint(err)
	})
	for i := range 3 {
		a := addr()
		_, port, _ := net.SplitHostPort(a)
		dir := t.TempDir()
		conf := fmt.Sprintf("bind 127.0.0.1\nport %s\ndir %s\nsentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %s 2000\nsentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
			port, dir, masterName, masterPort, masterName, masterName, masterName)
		path := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		startProc(t, "sentinel-"+strconv.Itoa(i+1), sentinelPath, []string{path}, baseEnv())
		s.sentinels = append(s.sentinels, a)
	}
	for _, a := range s.sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		t.Cleanup(func() { _ = sc.Close() })
		sharedtest.WaitFor(t, "sentinel "+a+" knows the replica and its peers", 30*time.Second, func() (bool, string) {
			ctx := context.Background()
			replicas, err1 := sc.Replicas(ctx, masterName).Result()
			peers, err2 := sc.Sentinels(ctx, masterName).Result()
			return err1 == nil && err2 == nil && len(replicas) == 1 && len(peers) == 2,
				fmt.Sprintf("replicas=%d peers=%d %v %v", len(replicas), len(peers), err1, err2)
		})
	}
	return s
}

func redisClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestSentinelFailover runs jobs on a Sentinel-managed Redis and forces a
// failover mid-run: the workers follow the new master and every job ends
// right, each detach applied once.
func TestSentinelFailover(t *testing.T) {
	heavy(t)
	t.Parallel()
	const runBudget = 4 * time.Minute
	start := time.Now()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 5))
	w := newWorkload(rng, workloadSpec{prefix: "snt", groups: 20, jobsPerGroup: 5, missingEvery: 10})
	set := startSentinelSet(t)
	emu := startEmulator(t, emulatorConfig{ActivityDuration: time.Second, Groups: w.groups})
	emu.setFaults(t, esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(200 * time.Millisecond)}})
	enqueueAll(t, set.url(), w.jobs)
	// Failover loses what the replica has not received yet: let it catch up on
	// the queued jobs first (WAIT 1 replica).
	if n, err := redisClient(t, set.master).Wait(context.Background(), 1, 10*time.Second).Result(); err != nil || n < 1 {
		t.Fatalf("WAIT for the replica: %d, %v", n, err)
	}
	workers := []*workerProc{
		startWorker(t, "worker-1", set.url(), emu.url),
		startWorker(t, "worker-2", set.url(), emu.url),
	}
	sharedtest.WaitFor(t, "a fifth of the detaches applied", time.Minute, func() (bool, string) {
		n := emu.stats(t).DetachesApplied
		return n >= w.detaching/5, "applied=" + strconv.Itoa(n)
	})

	sc := redis.NewSentinelClient(&redis.Options{Addr: set.sentinels[0]})
	t.Cleanup(func() { _ = sc.Close() })
	failoverAt := time.Now()
	if err := sc.Failover(context.Background(), masterName).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	sharedtest.WaitFor(t, "the replica becomes master", 30*time.Second, func() (bool, string) {
		a, err := sc.GetMasterAddrByName(context.Background(), masterName).Result()
		return err == nil && net.JoinHostPort(a[0], a[1]) == set.replica, fmt.Sprint(a, err)
	})
	appliedAtFailover := emu.stats(t).DetachesApplied
	t.Logf("failover done in %v, %d detaches applied by then", time.Since(failoverAt).Round(time.Millisecond), appliedAtFailover)

	insp := asynq.NewInspector(set.connOpt())
	t.Cleanup(func() { _ = insp.Close() })
	qi := queueDone(t, insp, len(w.jobs), runBudget)
	v := checkJobs(t, insp, w.jobs)
	stats, twice := checkEmulator(t, emu, w, v)
	for _, wp := range workers {
		if !wp.running() {
			t.Errorf("%s exited: %v", wp.name, wp.waitErr)
		}
	}
	t.Logf("summary: seed=%d jobs=%d groups=%d failovers=1 applied_before_failover=%d completed=%d archived=%d (want %d) lost=%d wrong=%d applied_twice=%d detaches_applied=%d/%d activities=%d/%d ess_calls=%d elapsed=%s",
		seed, len(w.jobs), len(w.groups), appliedAtFailover, qi.Completed, qi.Archived, countWant(w.jobs, wantArchived),
		v.lost, v.wrong, twice, stats.DetachesApplied, w.detaching, stats.ActivitiesCreated, w.activities,
		totalCalls(stats), time.Since(start).Round(time.Second))
}
