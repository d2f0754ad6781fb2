package apiserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"essworker/internal/sharedtest"
)

// TestRedisLost: with Redis gone, both job routes answer 503
// ServiceUnavailable and /readyz 503, while /healthz stays 200.
func TestRedisLost(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.redis.RequireReal(t)
	if r := a.do(t, "GET", "/readyz", "", ""); r.status != http.StatusOK {
		t.Fatalf("/readyz %d before Redis stops", r.status)
	}
	a.redis.Stop(t)
	a.do(t, "POST", "/v1/detach-jobs", tokenCI, oneJob).wantError(t, http.StatusServiceUnavailable, codeServiceUnavailable, "")
	a.do(t, "GET", "/v1/detach-jobs/req-1", tokenCI, "").wantError(t, http.StatusServiceUnavailable, codeServiceUnavailable, "")
	if r := a.do(t, "GET", "/readyz", "", ""); r.status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz %d with Redis stopped, want 503", r.status)
	}
	if r := a.do(t, "GET", "/healthz", "", ""); r.status != http.StatusOK {
		t.Fatalf("/healthz %d with Redis stopped, want 200", r.status)
	}
	a.redis.Restart(t)
	a.do(t, "POST", "/v1/detach-jobs", tokenCI, oneJob).jobs(t, http.StatusAccepted)
}

// TestReloadTokens: a reload takes the file's new tokens from the next
// request on; a bad file keeps the tokens in use, with an error.
func TestReloadTokens(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.do(t, "GET", "/v1/detach-jobs/x", tokenCI, "").wantError(t, http.StatusNotFound, codeNotFound, "")
	if err := os.WriteFile(a.tokens, []byte("rotated:"+tokenRotate+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.ReloadTokens(); err != nil {
		t.Fatal(err)
	}
	a.do(t, "GET", "/v1/detach-jobs/x", tokenCI, "").wantError(t, http.StatusUnauthorized, codeUnauthorized, "")
	a.do(t, "GET", "/v1/detach-jobs/x", tokenRotate, "").wantError(t, http.StatusNotFound, codeNotFound, "")

	for _, bad := range []string{"# nothing\n", "short:abc\n", "no colon " + tokenCI + "\n"} {
		if err := os.WriteFile(a.tokens, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := a.ReloadTokens(); err == nil || !strings.Contains(err.Error(), "--tokens-file: "+a.tokens+" holds no valid NAME:TOKEN line") {
			t.Fatalf("reload of %q: %v, want an error naming the file", bad, err)
		}
		a.do(t, "GET", "/v1/detach-jobs/x", tokenRotate, "").wantError(t, http.StatusNotFound, codeNotFound, "")
	}
	if err := os.Remove(a.tokens); err != nil {
		t.Fatal(err)
	}
	if err := a.ReloadTokens(); err == nil {
		t.Fatal("reload of a missing file: no error")
	}
	a.do(t, "GET", "/v1/detach-jobs/x", tokenRotate, "").wantError(t, http.StatusNotFound, codeNotFound, "")
	for _, want := range []string{`"clients":["rotated"]`, "line 1 skipped: the token is shorter than 16 characters", "line 1 skipped: not NAME:TOKEN"} {
		if !strings.Contains(a.logs.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

// TestShutdownAnswersWaits: when Run's context ends, a GET waiting for its
// job answers the state of that moment, and Run returns nil.
func TestShutdownAnswersWaits(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.do(t, "POST", "/v1/detach-jobs", tokenCI, oneJob).jobs(t, http.StatusAccepted)
	other := a.runOwn(t, nil)
	answered := make(chan answer, 1)
	go func() { answered <- other.do(t, "GET", "/v1/detach-jobs/req-1?wait=60s", tokenCI, "") }()
	sharedtest.WaitFor(t, "one request in flight", 10*time.Second, func() (bool, string) {
		n := other.metrics.inFlight()
		return n == 1, fmt.Sprint(n, " in flight")
	})
	began := time.Now()
	other.cancel()
	got := (<-answered).jobOf(t)
	if got["state"] != "pending" {
		t.Fatalf("answer at shutdown %v, want the pending job", got)
	}
	other.wait(t)
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}

// TestSlowHeadersCut: a client that never finishes its headers is cut off
// after ReadHeaderTimeout instead of holding a connection.
func TestSlowHeadersCut(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	s := a.runOwn(t, func(s *Server) {
		if s.http.ReadHeaderTimeout != readHeaderTimeout || s.http.ReadTimeout != readTimeout || readHeaderTimeout <= 0 {
			t.Fatalf("ReadHeaderTimeout %v, ReadTimeout %v", s.http.ReadHeaderTimeout, s.http.ReadTimeout)
		}
		s.http.ReadHeaderTimeout = 200 * time.Millisecond // the test's own, to be quick
	})
	defer func() {
		s.cancel()
		s.wait(t)
	}()
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /v1/detach-jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tokenCI + "\r\n")); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after 10s: %v", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("cut after %v, want about 200ms", d)
	}
	if writeTimeout <= maxWait || s.http.WriteTimeout != writeTimeout || s.http.MaxHeaderBytes != maxHeaderBytes {
		t.Errorf("server limits: write timeout %v (waits up to %v), max header bytes %d", writeTimeout, maxWait, s.http.MaxHeaderBytes)
	}
}
