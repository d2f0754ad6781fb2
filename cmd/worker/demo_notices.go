package main

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"essworker/internal/notify"
)

// maxNoticeBody bounds what the demo's receiver reads of a notice.
const maxNoticeBody = 1 << 20

// demoReceiver is the demo's webhook receiver: it checks each notice's
// signature as a receiver should, and prints one line per notice.
type demoReceiver struct {
	URL        string // where the worker posts notices
	SecretFile string // the secret the worker signs with, fresh for this run

	secret []byte
	dir    string
	out    io.Writer
	srv    *http.Server
}

// startDemoReceiver serves notices on a free loopback port, printing them to
// out, under a random secret written to a file of a temporary directory.
func startDemoReceiver(out io.Writer) (*demoReceiver, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "essworker-demo-")
	if err != nil {
		return nil, err
	}
	r := &demoReceiver{secret: []byte(hex.EncodeToString(key)), dir: dir, out: out, SecretFile: filepath.Join(dir, "notify-secret")}
	if err := os.WriteFile(r.SecretFile, r.secret, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r.URL = "http://" + ln.Addr().String() + "/notices"
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// serve takes one notice: 204 when its signature is the secret's, 401 when not.
func (r *demoReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxNoticeBody))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if !hmac.Equal([]byte(req.Header.Get(notify.HeaderSignature)), []byte(notify.Sign(r.secret, body))) {
		fmt.Fprintln(r.out, "notice refused: its signature does not match the secret")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var n notify.Notice
	var res struct{ Outcome string }
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(w, "not a notice", http.StatusBadRequest)
		return
	}
	_ = json.Unmarshal(n.Result, &res)
	fmt.Fprintf(r.out, "notice: %s %s (%s), signature verified, delivery %s\n",
		n.TaskID, n.State, res.Outcome, req.Header.Get(notify.HeaderDelivery))
	w.WriteHeader(http.StatusNoContent)
}

// Close stops the receiver and removes the secret.
func (r *demoReceiver) Close() error {
	return errors.Join(r.srv.Close(), os.RemoveAll(r.dir))
}

// lineWriter passes whole writes to w one at a time, so that lines printed
// by several goroutines do not interleave.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
