package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Modes of a receiver.
const (
	modeUp     = iota // answers 204
	modeFail          // answers 503
	modeClosed        // closes the connection without an answer
)

// delivery is one request a receiver got.
type delivery struct {
	id        string
	body      string
	signedOK  bool
	jsonType  bool
	basicUser string
	basicPass string
	answered  int // the status sent, 0 when the connection was closed
}

// receiver is a webhook receiver in the test: it checks each request's
// signature the way the README's example does and records it.
type receiver struct {
	*httptest.Server
	secret []byte
	mu     sync.Mutex
	mode   int
	got    []delivery
}

func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	r := &receiver{secret: []byte(secret)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	m := hmac.New(sha256.New, r.secret)
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	d := delivery{
		id:       req.Header.Get("X-Essworker-Delivery"),
		body:     string(body),
		signedOK: hmac.Equal([]byte(req.Header.Get("X-Essworker-Signature")), []byte(want)),
		jsonType: req.Header.Get("Content-Type") == "application/json",
	}
	d.basicUser, d.basicPass, _ = req.BasicAuth()
	r.mu.Lock()
	mode := r.mode
	switch mode {
	case modeUp:
		d.answered = http.StatusNoContent
	case modeFail:
		d.answered = http.StatusServiceUnavailable
	}
	r.got = append(r.got, d)
	r.mu.Unlock()
	if mode == modeClosed {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	w.WriteHeader(d.answered)
}

func (r *receiver) setMode(m int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode = m
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}
