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
	URL string // "http://127.0.0.1:PORT", set by Start

	// Listener is the loopback listener Start serves on.
	Listener net.Listener
	// Config is the HTTP server Start runs. Between NewUnstartedServer and
	// Start a caller may change it, for instance wrap Config.Handler to see
	// every request before the emulator answers it.
	Config *http.Server

	serveDone chan struct{}
	cancel    context.CancelFunc

	mu       sync.Mutex
	started  bool
	closed   bool
	inFlight sync.WaitGroup
}

// NewServer starts an Emulator on a free loopback port; panics only if it cannot listen, like httptest.
func NewServer(cfg Config) *Server {
	s := NewUnstartedServer(cfg)
	s.Start()
	return s
}

// NewUnstartedServer returns an Emulator listening on a free loopback port
// that serves nothing until Start, like httptest.NewUnstartedServer. It
// panics only if it cannot listen. The caller must Start or Close it.
func NewUnstartedServer(cfg Config) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if ln, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			panic(fmt.Sprintf("esstest: failed to listen on a port: %v", err))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Emulator:  New(cfg),
		Listener:  ln,
		serveDone: make(chan struct{}),
		cancel:    cancel,
	}
	s.Config = &http.Server{
		Handler:     http.HandlerFunc(s.track),
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	return s
}

// Start serves Config on Listener and sets URL. It panics if the server was
// started or closed before.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		panic("esstest: Server already started or closed")
	}
	s.started = true
	s.URL = "http://" + s.Listener.Addr().String()
	go func() {
		defer close(s.serveDone)
		_ = s.Config.Serve(s.Listener) // returns http.ErrServerClosed on Close
	}()
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
	started := s.started
	s.mu.Unlock()
	s.cancel()
	if !started {
		_ = s.Listener.Close() // no error of use here: nothing was served
		return
	}
	_ = s.Config.Close() // the only error is the listener's close error, of no use here
	s.inFlight.Wait()
	<-s.serveDone
}
