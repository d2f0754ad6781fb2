package main

import (
	"fmt"
	"sync"
	"time"
)

// rateSampleAt is the emulator's count of successful detaches at a time.
type rateSampleAt struct {
	at time.Time
	ok int
}

// detachSampler reads the emulator's count of successful detaches every
// rateSample, from its start until stop.
type detachSampler struct {
	mu       sync.Mutex
	samples  []rateSampleAt
	done     chan struct{} // closed by stop
	sampled  chan struct{} // closed when the sampling goroutine returns
	stopOnce sync.Once
}

// startDetachSampler takes a first sample at once, then one every rateSample.
func startDetachSampler(emu *emulator) *detachSampler {
	s := &detachSampler{done: make(chan struct{}), sampled: make(chan struct{})}
	go func() {
		defer close(s.sampled)
		t := time.NewTicker(rateSample)
		defer t.Stop()
		for {
			st := emu.Stats()
			s.mu.Lock()
			s.samples = append(s.samples, rateSampleAt{at: time.Now(), ok: calls(st, actionDetach, "OK")})
			s.mu.Unlock()
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the samples taken; it may be called
// more than once.
func (s *detachSampler) stop() []rateSampleAt {
	s.stopOnce.Do(func() { close(s.done) })
	<-s.sampled
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// sustainedRate is the detach rate between the first samples at or past 10%
// and 90% of n.
func sustainedRate(samples []rateSampleAt, n int) (float64, time.Duration, error) {
	var from, to *rateSampleAt
	for i := range samples {
		s := &samples[i]
		if from == nil && s.ok*10 >= n {
			from = s
		}
		if to == nil && s.ok*10 >= 9*n {
			to = s
		}
	}
	if from == nil || to == nil || !to.at.After(from.at) {
		return 0, 0, fmt.Errorf("too few samples (%d) to measure a rate", len(samples))
	}
	d := to.at.Sub(from.at)
	return float64(to.ok-from.ok) / d.Seconds(), d, nil
}
