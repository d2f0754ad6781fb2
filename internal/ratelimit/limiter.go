package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultKey names the bucket shared by the fleet.
const DefaultKey = "essworker:ess"

// DefaultHorizon is how far ahead a Limiter reserves slots: a caller whose slot
// would start later than that asks again once there is room.
const DefaultHorizon = 5 * time.Second

// reserveTimeout bounds one reservation round trip. A reservation serves every
// caller waiting at the time, so it runs on no caller's context.
const reserveTimeout = 5 * time.Second

// minRetry is the least wait before a caller past the horizon asks again.
const minRetry = time.Millisecond

// keyPrefix is the prefix go-redis/redis_rate gives its keys. The timeline is
// kept in its key and format (a GCRA theoretical arrival time, seconds since
// 2017-01-01, float), so workers whose limiter is redis_rate with burst 1 take
// their turns on the same timeline (the package doc says until when).
const keyPrefix = "rate:"

// reserveScript reserves up to ARGV[2] consecutive slots, ARGV[1] seconds
// apart, on the timeline in KEYS[1], all starting within ARGV[3] seconds from
// now (Redis TIME). With one slot it is redis_rate's GCRA with burst 1: a call
// may go at once when the timeline is not ahead of now, and pushes it one
// interval on.
//
// KEYS[1] -> rate:<key>, the timeline: the GCRA theoretical arrival time, in
// seconds since 2017-01-01 (a float); it expires once it lies in the past
// --
// ARGV[1] -> the interval between slots, in seconds
// ARGV[2] -> how many slots the callers want
// ARGV[3] -> the horizon: the latest start of a slot, in seconds from now
//
// Output:
// Returns {slots reserved, seconds from now to the first (a string)}; with
// no slot reserved, {0, seconds from now to the next free slot}
var reserveScript = redis.NewScript("redis.replicate_commands()" + ReserveFunc +
	"return reserve(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))")

// Limiter is a fleet-wide rate limit of evenly spaced calls; it implements
// essclient.Limiter. Calls take consecutive slots, one interval apart, on one
// timeline in Redis shared by every worker. The callers waiting in one process
// at the same moment share one reservation (one Redis round trip for all), and
// each then sleeps until its own slot without asking Redis again: a backlog of
// waiters costs Redis one call per slot at most, not one per waiter per turn.
// A slot whose caller gave up meanwhile goes unused, so the fleet may run under
// the rate, never over it.
type Limiter struct {
	rdb      redis.Scripter
	key      string
	interval time.Duration
	horizon  time.Duration

	mu        sync.Mutex
	waiting   []*waiter // callers for the next reservation
	reserving bool      // a goroutine is reserving for the waiting callers
}

// waiter is one caller of Wait, waiting for its share of a reservation.
type waiter struct {
	ctx context.Context
	got chan slot // buffered: the reserver never blocks on a caller that left
}

// slot is a caller's share of a reservation: a time to call at, or (ok false)
// a time to ask again because the horizon was full, or an error.
type slot struct {
	at  time.Time
	ok  bool
	err error
}

// New returns a limiter of qps calls per second on the bucket key of rdb.
// Calls are spaced evenly, one every 1/qps seconds: that is what keeps every
// one-second window of ESS's throttle under the rate.
func New(rdb redis.Scripter, key string, qps float64) (*Limiter, error) {
	if qps <= 0 {
		return nil, fmt.Errorf("ratelimit: qps must be positive (got %v)", qps)
	}
	return &Limiter{
		rdb:      rdb,
		key:      keyPrefix + key,
		interval: time.Duration(float64(time.Second) / qps),
		horizon:  DefaultHorizon,
	}, nil
}

// Wait blocks until the caller may make one call, or ctx is done. When ctx
// carries a slot of l that a script reserved (Granted) and no call used yet,
// the caller waits for that slot and asks Redis nothing.
func (l *Limiter) Wait(ctx context.Context) error {
	if at, ok := l.takeGranted(ctx); ok {
		return sleepUntil(ctx, at)
	}
	for {
		s, err := l.reserve(ctx)
		if err != nil {
			return err
		}
		if err := sleepUntil(ctx, s.at); err != nil {
			return err
		}
		if s.ok {
			return nil
		}
	}
}

// reserve joins the next reservation and returns this caller's share of it.
func (l *Limiter) reserve(ctx context.Context) (slot, error) {
	w := &waiter{ctx: ctx, got: make(chan slot, 1)}
	l.mu.Lock()
	l.waiting = append(l.waiting, w)
	if !l.reserving {
		l.reserving = true
		go l.serve()
	}
	l.mu.Unlock()
	select {
	case s := <-w.got:
		return s, s.err
	case <-ctx.Done():
		return slot{}, ctx.Err()
	}
}

// serve reserves slots for the waiting callers, a batch per round trip, until
// none are left.
func (l *Limiter) serve() {
	for {
		l.mu.Lock()
		batch := l.waiting[:0:0]
		for _, w := range l.waiting {
			if w.ctx.Err() == nil { // a caller that left would waste its slot
				batch = append(batch, w)
			}
		}
		l.waiting = nil
		if len(batch) == 0 {
			l.reserving = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		l.grant(batch)
	}
}

// grant reserves len(batch) slots and hands them out in order; callers past
// the horizon are told when to ask again.
func (l *Limiter) grant(batch []*waiter) {
	n, wait, err := l.reserveSlots(len(batch))
	first := time.Now().Add(wait)
	for i, w := range batch {
		switch {
		case err != nil:
			w.got <- slot{err: err}
		case i < n:
			w.got <- slot{at: first.Add(time.Duration(i) * l.interval), ok: true}
		default:
			// Ask again when the first slot not reserved comes within the
			// horizon; at least a moment later, so rounding cannot spin.
			at := first.Add(time.Duration(n)*l.interval - l.horizon)
			w.got <- slot{at: later(at, time.Now().Add(minRetry))}
		}
	}
}

// reserveSlots runs reserveScript for want slots: how many it reserved and the
// wait before the first.
func (l *Limiter) reserveSlots(want int) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), reserveTimeout)
	defer cancel()
	v, err := reserveScript.Run(ctx, l.rdb, []string{l.key},
		l.interval.Seconds(), want, l.horizon.Seconds()).Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("ratelimit: reserve: %w", err)
	}
	return parseReservation(v)
}

// parseReservation reads reserve's answer: slots reserved, and the wait
// before the first.
func parseReservation(v []any) (int, time.Duration, error) {
	if len(v) != 2 {
		return 0, 0, fmt.Errorf("ratelimit: reserve: %d values, want 2", len(v))
	}
	n, ok := v[0].(int64)
	waitText, isText := v[1].(string)
	if !ok || !isText {
		return 0, 0, errors.New("ratelimit: reserve: unexpected answer types")
	}
	wait, err := strconv.ParseFloat(waitText, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("ratelimit: reserve: wait %q: %w", waitText, err)
	}
	return int(n), time.Duration(wait * float64(time.Second)), nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleepUntil waits until t, or returns ctx's error if it ends first.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
