package essclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"essworker/essclient/esstest"
)

// firstByteListener accepts connections on loopback and reports the first
// byte each one sends: 0x16 opens a TLS ClientHello, 'P' an HTTP POST.
func firstByteListener(t *testing.T) (addr string, first <-chan byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan byte, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed at cleanup
			}
			b := make([]byte, 1)
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(conn, b); err == nil {
				select {
				case ch <- b[0]:
				default:
				}
			}
			conn.Close()
		}
	}()
	return ln.Addr().String(), ch
}

func TestSchemeOnTheWire(t *testing.T) {
	t.Parallel()
	const tlsHandshake = 0x16
	tests := []struct {
		name     string
		endpoint func(addr string) string
		region   string
		redirect bool   // dial the listener whatever the address
		wantDial string // the address the client meant to reach, when redirected
		want     byte
	}{
		{"default endpoint, old region", func(string) string { return "" }, "cn-hangzhou", true, "ess.aliyuncs.com:443", tlsHandshake},
		{"default endpoint, newer region", func(string) string { return "" }, "eu-central-1", true, "ess.eu-central-1.aliyuncs.com:443", tlsHandshake},
		{"https endpoint", func(a string) string { return "https://" + a }, "cn-hangzhou", false, "", tlsHandshake},
		{"http endpoint", func(a string) string { return "http://" + a }, "cn-hangzhou", false, "", 'P'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, first := firstByteListener(t)
			var dialed atomic.Value
			c := newTestClient(t, tt.endpoint(addr), func(cfg *Config) {
				cfg.Timeout = 2 * time.Second
				if tt.redirect {
					cfg.Transport = &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
						dialed.Store(a)
						var d net.Dialer
						return d.DialContext(ctx, network, addr)
					}}
				}
			})
			_, err := c.DescribeScalingGroups(t.Context(), tt.region, []string{testGroup})
			if ClassOf(err) != ClassRetryable || err == nil {
				t.Errorf("err = %v, want a retryable network error (the listener answers nothing)", err)
			}
			select {
			case b := <-first:
				if b != tt.want {
					t.Errorf("first byte on the wire = %#x, want %#x", b, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the listener saw no connection")
			}
			if tt.redirect {
				if got, _ := dialed.Load().(string); got != tt.wantDial {
					t.Errorf("dialed %q, want %q", got, tt.wantDial)
				}
			}
		})
	}
}

// TestHTTPSEndToEnd runs a whole call over TLS: the emulator behind an
// httptest TLS server, trusted through Config.Transport.
func TestHTTPSEndToEnd(t *testing.T) {
	t.Parallel()
	emu := esstest.New(esstest.Config{})
	if err := emu.AddScalingGroup(testGroupWith(testGroup, "lb-1")); err != nil {
		t.Fatal(err)
	}
	var sawTLS, sawPlain atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			sawTLS.Add(1)
		} else {
			sawPlain.Add(1)
		}
		emu.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	})
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("test server URL %s is not https", srv.URL)
	}
	if _, err := c.DetachLoadBalancers(t.Context(), DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "tls"}); err != nil {
		t.Fatalf("detach over TLS: %v", err)
	}
	if sawTLS.Load() != 1 || sawPlain.Load() != 0 {
		t.Errorf("server saw %d TLS and %d plain requests, want 1 and 0", sawTLS.Load(), sawPlain.Load())
	}

	// The default transport verifies certificates: an untrusted one fails.
	untrusting := newTestClient(t, srv.URL)
	_, err := untrusting.DetachLoadBalancers(t.Context(), DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "tls"})
	if e := asError(t, err); e.Code != CodeNetwork || !strings.Contains(e.Message, "certificate") {
		t.Errorf("untrusted certificate: err = %v, want a network error about the certificate", err)
	}
}
