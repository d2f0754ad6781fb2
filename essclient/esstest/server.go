package esstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Server is an Emulator listening on a loopback port, like httptest.Server.
type Server struct {
	*Emulator
	URL string // "http://127.0.0.1:PORT"

	srv       *http.Server
	serveDone chan struct{}
	cancel    context.CancelFunc

	mu       sync.Mutex
	closed   bool
	inFlight sync.WaitGroup
}

// NewServer starts an Emulator on a free loopback port; panics only if it cannot listen, like httptest.
func NewServer(cfg Config) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if ln, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			panic(fmt.Sprintf("esstest: failed to listen on a port: %v", err))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Emulator:  New(cfg),
		URL:       "http://" + ln.Addr().String(),
		serveDone: make(chan struct{}),
		cancel:    cancel,
	}
	s.srv = &http.Server{
		Handler:     http.HandlerFunc(s.track),
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s
}

// track serves one request, counted so Close can wait for it.
func (s *Server) track(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "esstest: server closed", http.StatusServiceUnavailable)
		return
	}
	s.inFlight.Add(1)
	s.mu.Unlock()
	defer s.inFlight.Done()
	s.Emulator.ServeHTTP(w, r)
}

// Close shuts the server down: it closes the listener and every connection,
// ends injected latency early, and waits for running handlers to return.
// It may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	_ = s.srv.Close() // the only error is the listener's close error, of no use here
	s.inFlight.Wait()
	<-s.serveDone
}
