package esstest

import (
	"sync"
	"time"
)

// Clock lets tests control time; the real clock is the default.
//
// The emulator reads it for everything that happens "inside ESS": how far an
// activity has progressed, when it ends, how long a ClientToken is kept, which
// activities are younger than 30 days, and the throttle's token bucket. The
// gateway's Timestamp and SignatureNonce checks use the real clock, because the
// SDK stamps every request with the real time.
type Clock interface{ Now() time.Time }

// realClock is the default Clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// FakeClock is a Clock that moves only when told to. It is safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock that reads start until advanced.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d. An activity whose end the clock passes
// ends at the next call to the emulator; nothing runs in the background.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
