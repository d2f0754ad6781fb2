package esstest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"
)

// AllActions is the FaultPlan key that applies to every action without an entry of its own.
const AllActions = "*"

// DefaultErrorCode is the code ErrorRate and ErrorAfterWorkRate answer when ErrorCodes is empty.
const DefaultErrorCode = CodeServiceUnavailable

// FaultPlan is keyed by action name or "*" (all actions); the action's own entry wins over "*".
type FaultPlan map[string]Fault

// Fault is what the emulator does to the calls of one action, after the
// gateway's signature check and in this order: ThrottleQPS, ErrorRate, the
// work, LostAnswerRate, ErrorAfterWorkRate, Latency. Randomness comes from
// Config.Seed.
type Fault struct {
	ErrorRate      float64  `json:"ErrorRate,omitempty"`      // 0..1: answer one of ErrorCodes without doing the work
	ErrorCodes     []string `json:"ErrorCodes,omitempty"`     // default ["ServiceUnavailable"]; HTTP status: Status, else the code's (StatusForCode)
	Latency        Duration `json:"Latency,omitempty"`        // added before answering
	LostAnswerRate float64  `json:"LostAnswerRate,omitempty"` // 0..1: do the work, then close the connection with no answer
	ThrottleQPS    float64  `json:"ThrottleQPS,omitempty"`    // beyond this rate answer 400 Throttling.User
	// ErrorAfterWorkRate (0..1) answers one of ErrorCodes after a call that
	// succeeded: its work is done and its ClientToken keeps the success, as
	// when ESS fails after acting. A lost answer wins; a call that fails on
	// its own keeps its error.
	ErrorAfterWorkRate float64 `json:"ErrorAfterWorkRate,omitempty"`
	// Status (400..599) is the HTTP status of the ErrorRate and
	// ErrorAfterWorkRate answers; nil: the code's own (StatusForCode).
	Status *int `json:"Status,omitempty"`
}

// normalized validates p and returns a copy with defaults filled in.
func (p FaultPlan) normalized() (FaultPlan, error) {
	out := make(FaultPlan, len(p))
	for _, key := range slices.Sorted(maps.Keys(p)) {
		f := p[key]
		if key != AllActions && actions[key] == nil {
			return nil, fmt.Errorf("%w: fault plan: %q is not an action the emulator serves nor %q", ErrInvalidState, key, AllActions)
		}
		if f.ErrorRate < 0 || f.ErrorRate > 1 {
			return nil, fmt.Errorf("%w: fault plan: %s.ErrorRate: %v is not within 0..1", ErrInvalidState, key, f.ErrorRate)
		}
		if f.LostAnswerRate < 0 || f.LostAnswerRate > 1 {
			return nil, fmt.Errorf("%w: fault plan: %s.LostAnswerRate: %v is not within 0..1", ErrInvalidState, key, f.LostAnswerRate)
		}
		if f.ErrorAfterWorkRate < 0 || f.ErrorAfterWorkRate > 1 {
			return nil, fmt.Errorf("%w: fault plan: %s.ErrorAfterWorkRate: %v is not within 0..1", ErrInvalidState, key, f.ErrorAfterWorkRate)
		}
		if f.Status != nil && (*f.Status < 400 || *f.Status > 599) {
			return nil, fmt.Errorf("%w: fault plan: %s.Status: %d is not an HTTP error status within 400..599", ErrInvalidState, key, *f.Status)
		}
		if f.Latency < 0 {
			return nil, fmt.Errorf("%w: fault plan: %s.Latency: %v is negative", ErrInvalidState, key, time.Duration(f.Latency))
		}
		if f.ThrottleQPS < 0 {
			return nil, fmt.Errorf("%w: fault plan: %s.ThrottleQPS: %v is negative", ErrInvalidState, key, f.ThrottleQPS)
		}
		for i, c := range f.ErrorCodes {
			if c == "" {
				return nil, fmt.Errorf("%w: fault plan: %s.ErrorCodes[%d]: empty", ErrInvalidState, key, i)
			}
		}
		f = f.clone()
		if len(f.ErrorCodes) == 0 {
			f.ErrorCodes = []string{DefaultErrorCode}
		}
		out[key] = f
	}
	return out, nil
}

// clone deep-copies the plan for a caller.
func (p FaultPlan) clone() FaultPlan {
	out := make(FaultPlan, len(p))
	for k, f := range p {
		out[k] = f.clone()
	}
	return out
}

// clone deep-copies f, so a caller cannot change the plan in force.
func (f Fault) clone() Fault {
	f.ErrorCodes = slices.Clone(f.ErrorCodes)
	if f.Status != nil {
		f.Status = new(*f.Status)
	}
	return f
}

// injectedError is an ErrorRate or ErrorAfterWorkRate answer: one of the
// ErrorCodes, drawn from rng, with the fault's Status or the code's own.
func (f Fault) injectedError(rng *rand.Rand, format string) *apiError {
	code := f.ErrorCodes[rng.IntN(len(f.ErrorCodes))]
	aerr := newError(code, format, code)
	if f.Status != nil {
		aerr.status = *f.Status
	}
	return aerr
}

// forAction returns the fault of action: its own entry, else "*".
func (p FaultPlan) forAction(action string) Fault {
	if f, ok := p[action]; ok {
		return f
	}
	return p[AllActions]
}

// tokenBucket limits one action to qps calls per second by the emulator's
// Clock, with a burst of max(1, qps).
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token if one is there.
func (b *tokenBucket) allow(now time.Time, qps float64) bool {
	burst := max(1, qps)
	if b.last.IsZero() {
		b.tokens = burst
	} else if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed.Seconds()*qps)
	}
	if now.After(b.last) || b.last.IsZero() {
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
