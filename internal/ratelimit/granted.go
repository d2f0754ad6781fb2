package ratelimit

import (
	"context"
	"sync/atomic"
	"time"
)

// ReserveFunc is Lua defining reserve(key, interval, wanted, horizon): the
// reservation of up to wanted slots (reserveScript's work, see there for the
// timeline and the arguments), returning {slots reserved, seconds from now to
// the first (a string)}, or {0, seconds to the next free slot}. It reads Redis
// TIME before it writes.
//
// A script of another package that knows, in a round trip it makes anyway,
// that its caller is about to call ESS prepends it (after
// redis.replicate_commands(), before any write), calls reserve(KEYS[i],
// interval, 1, horizon) with the limiter's Key and ReserveArgs, and hands the
// answer to Granted: the call then costs the limiter no round trip of its own.
const ReserveFunc = `
local function reserve(key, interval, wanted, horizon)
  local t = redis.call('TIME')
  local now = (t[1] - 1483228800) + (t[2] / 1000000)
  local tat = tonumber(redis.call('GET', key) or now) or now
  if tat < now then tat = now end
  local wait = tat - now
  local n = math.min(wanted, math.floor((horizon - wait) / interval) + 1)
  if n < 1 then return {0, tostring(wait)} end
  local next_tat = tat + n * interval
  redis.call('SET', key, next_tat, 'EX', math.ceil(next_tat - now))
  return {n, tostring(wait)}
end
`

// Key is the limiter's timeline in Redis, for a script embedding ReserveFunc.
func (l *Limiter) Key() string { return l.key }

// ReserveArgs are reserve's interval and horizon for this limiter, in
// seconds.
func (l *Limiter) ReserveArgs() (interval, horizon float64) {
	return l.interval.Seconds(), l.horizon.Seconds()
}

// grantedKey is the context key of a slot reserved by another script.
type grantedKey struct{}

// granted is a slot of lim reserved by another script, for one call.
type granted struct {
	lim  *Limiter
	at   time.Time
	used atomic.Bool
}

// Granted returns ctx carrying the slot a script reserved with reserve
// (answer is reserve's {n, wait}), for the next Wait on l under ctx; a
// second call under ctx reserves as usual. With no slot reserved (the
// horizon was full) it returns ctx as is.
func (l *Limiter) Granted(ctx context.Context, answer []any) (context.Context, error) {
	n, wait, err := parseReservation(answer)
	if err != nil || n < 1 {
		return ctx, err
	}
	return context.WithValue(ctx, grantedKey{}, &granted{lim: l, at: time.Now().Add(wait)}), nil
}

// takeGranted returns the time of ctx's slot of l, once.
func (l *Limiter) takeGranted(ctx context.Context) (time.Time, bool) {
	g, ok := ctx.Value(grantedKey{}).(*granted)
	if !ok || g.lim != l || !g.used.CompareAndSwap(false, true) {
		return time.Time{}, false
	}
	return g.at, true
}
