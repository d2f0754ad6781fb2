package embeddedredis

import (
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// ttlTick is how often the TTL clock moves; key expiry is that precise.
const ttlTick = 100 * time.Millisecond

// Server is a running miniredis whose keys expire in real time.
type Server struct {
	*miniredis.Miniredis
	stop chan struct{}
	done chan struct{}
}

// Start starts a server listening on addr ("127.0.0.1:0" for any free port).
// password, when not empty, is required from clients.
func Start(addr, password string) (*Server, error) {
	m := miniredis.NewMiniRedis()
	if password != "" {
		m.RequireAuth(password)
	}
	if err := m.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("embedded redis: listen on %s: %w", addr, err)
	}
	s := &Server{Miniredis: m, stop: make(chan struct{}), done: make(chan struct{})}
	go s.tick()
	return s, nil
}

// Close stops the clock and the server.
func (s *Server) Close() {
	close(s.stop)
	<-s.done
	s.Miniredis.Close()
}

func (s *Server) tick() {
	defer close(s.done)
	t := time.NewTicker(ttlTick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.FastForward(ttlTick)
		}
	}
}
