package apiserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"essworker/internal/sharedtest"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"tokens file", Config{TokensFile: "/etc/t"}, ""},
		{"insecure", Config{InsecureNoAuth: true}, ""},
		{"neither", Config{}, "--tokens-file: required"},
		{"both", Config{TokensFile: "/etc/t", InsecureNoAuth: true}, "--tokens-file: /etc/t given with --insecure-no-auth"},
		{"cert without key", Config{InsecureNoAuth: true, TLSCertFile: "c"}, "--tls-key-file: required with --tls-cert-file"},
		{"key without cert", Config{InsecureNoAuth: true, TLSKeyFile: "k"}, "--tls-cert-file: required with --tls-key-file"},
		{"bad addr", Config{InsecureNoAuth: true, Addr: "8088"}, "--addr: want HOST:PORT"},
		{"bad level", Config{InsecureNoAuth: true, LogLevel: "loud"}, "--log-level:"},
		{"bad format", Config{InsecureNoAuth: true, LogFormat: "xml"}, "--log-format:"},
		{"negative shutdown", Config{InsecureNoAuth: true, ShutdownTimeout: -time.Second}, "--shutdown-timeout:"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	c := Config{InsecureNoAuth: true}
	if err := c.Validate(); err != nil || c.Addr != DefaultAddr || c.RedisURL != "redis://127.0.0.1:6379/0" || c.ShutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("defaults: %+v, %v", c, err)
	}
}

func TestLoadTokens(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "tokens")
	content := strings.Join([]string{
		"# comment",
		"ci:" + tokenCI,
		"  bot:" + tokenBot + "  ",
		"short:0123",
		"spaced:" + "abc def ghi jkl mno",
		"bad name!:" + tokenRotate,
		"ci:" + tokenRotate,
		"again:" + tokenCI,
		"nocolon",
		"",
	}, "\n")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	set, warnings, err := loadTokens(file)
	if err != nil {
		t.Fatal(err)
	}
	for tok, want := range map[string]string{tokenCI: "ci", tokenBot: "bot"} {
		if name, ok := set.lookup(tok); !ok || name != want {
			t.Errorf("lookup of %s's token: %q, %v", want, name, ok)
		}
	}
	for _, tok := range []string{"", tokenRotate, "0123", tokenCI + "x", strings.ToUpper(tokenCI)} {
		if name, ok := set.lookup(tok); ok {
			t.Errorf("lookup(%q) = %q, want no client", tok, name)
		}
	}
	wantLines := []string{"line 4 skipped", "line 5 skipped", "line 6 skipped", "line 7 skipped: client ci is named twice", "line 8 skipped: the token is that of an earlier line", "line 9 skipped: not NAME:TOKEN"}
	if len(warnings) != len(wantLines) {
		t.Fatalf("warnings %q, want %d", warnings, len(wantLines))
	}
	for i, w := range wantLines {
		if !strings.Contains(warnings[i], w) {
			t.Errorf("warning %d %q, want %q", i, warnings[i], w)
		}
		for _, tok := range []string{tokenCI, tokenBot, tokenRotate, "0123", "abc def"} {
			if strings.Contains(warnings[i], tok) {
				t.Errorf("warning %q shows a token", warnings[i])
			}
		}
	}
}

// TestNewRefuses: a tokens file without a valid line, TLS files that cannot
// be read, and an unreachable Redis, whose password never shows.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed, err := sharedtest.FreeAddr() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{TokensFile: empty}, "--tokens-file: " + empty + " holds no valid NAME:TOKEN line"},
		{Config{TokensFile: filepath.Join(dir, "missing")}, "--tokens-file: open " + filepath.Join(dir, "missing")},
		{Config{InsecureNoAuth: true, TLSCertFile: filepath.Join(dir, "c.pem"), TLSKeyFile: filepath.Join(dir, "k.pem")}, "--tls-cert-file:"},
		{Config{InsecureNoAuth: true, RedisURL: "redis://:hunter2-secret@" + closed + "/0"}, "redis unreachable at redis://:xxxxx@" + closed},
	}
	for _, tc := range cases {
		tc.cfg.Addr = "127.0.0.1:0"
		_, err := New(context.Background(), tc.cfg, discardLogger())
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestTLS serves HTTPS with the key pair of --tls-cert-file/--tls-key-file.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := writeCert(t)
	a := startAPI(t, "", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile })
	if !strings.HasPrefix(a.URL(), "https://") {
		t.Fatalf("URL %s", a.URL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: requestTimeout}
	req, _ := http.NewRequest("GET", a.URL()+"/v1/detach-jobs/none", nil)
	req.Header.Set("Authorization", "Bearer "+tokenCI)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("status %d over %+v; want 404 over TLS 1.2+", resp.StatusCode, resp.TLS)
	}
	plain, err := http.Get("http://" + a.Addr() + "/healthz")
	if err == nil {
		plain.Body.Close()
		if plain.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP answered 200 on the HTTPS port")
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "essworker api test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
