package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// certLifetime is how long the test certificates are valid, from an hour ago
// (a little clock skew is harmless).
const certLifetime = 24 * time.Hour

// File names of the TLS material, in the server's temporary directory.
const (
	caFileName      = "ca.pem"
	serverCertName  = "server.pem"
	serverKeyName   = "server-key.pem"
	tlsServerCommon = "redistest server"
)

// tlsFiles are the PEM files of a TLS server: its CA, its certificate and key.
type tlsFiles struct {
	ca, cert, key string
	pool          *x509.CertPool
}

// writeTLSFiles makes a self-signed CA and a server certificate it signs,
// valid for 127.0.0.1 and localhost, and writes them as PEM into dir.
func writeTLSFiles(t testing.TB, dir string) tlsFiles {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("redistest: CA key: %v", err)
	}
	notBefore := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "redistest CA"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("redistest: CA certificate: %v", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("redistest: CA certificate: %v", err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("redistest: server key: %v", err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: tlsServerCommon},
		NotBefore:    notBefore,
		NotAfter:     notBefore.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("redistest: server certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatalf("redistest: server key: %v", err)
	}
	f := tlsFiles{
		ca:   filepath.Join(dir, caFileName),
		cert: filepath.Join(dir, serverCertName),
		key:  filepath.Join(dir, serverKeyName),
		pool: x509.NewCertPool(),
	}
	f.pool.AddCert(caCert)
	writePEM(t, f.ca, "CERTIFICATE", caDER)
	writePEM(t, f.cert, "CERTIFICATE", srvDER)
	writePEM(t, f.key, "PRIVATE KEY", keyDER)
	return f
}

// clientTLS is the client side of f: TLS 1.2 or later, trusting f's CA only.
func (f tlsFiles) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: f.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatalf("redistest: serial number: %v", err)
	}
	return n
}

func writePEM(t testing.TB, path, blockType string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("redistest: write %s: %v", path, err)
	}
}
