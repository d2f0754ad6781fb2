package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
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
func writeTLSFiles(dir string) (tlsFiles, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tlsFiles{}, fmt.Errorf("redistest: CA key: %w", err)
	}
	notBefore := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "redistest CA"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if caTmpl.SerialNumber, err = serial(); err != nil {
		return tlsFiles{}, err
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tlsFiles{}, fmt.Errorf("redistest: CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tlsFiles{}, fmt.Errorf("redistest: CA certificate: %w", err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tlsFiles{}, fmt.Errorf("redistest: server key: %w", err)
	}
	srvTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: tlsServerCommon},
		NotBefore:   notBefore,
		NotAfter:    notBefore.Add(certLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
	}
	if srvTmpl.SerialNumber, err = serial(); err != nil {
		return tlsFiles{}, err
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return tlsFiles{}, fmt.Errorf("redistest: server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		return tlsFiles{}, fmt.Errorf("redistest: server key: %w", err)
	}
	f := tlsFiles{
		ca:   filepath.Join(dir, caFileName),
		cert: filepath.Join(dir, serverCertName),
		key:  filepath.Join(dir, serverKeyName),
		pool: x509.NewCertPool(),
	}
	f.pool.AddCert(caCert)
	if err := writePEM(f.ca, "CERTIFICATE", caDER); err != nil {
		return tlsFiles{}, err
	}
	if err := writePEM(f.cert, "CERTIFICATE", srvDER); err != nil {
		return tlsFiles{}, err
	}
	if err := writePEM(f.key, "PRIVATE KEY", keyDER); err != nil {
		return tlsFiles{}, err
	}
	return f, nil
}

// clientTLS is the client side of f: TLS 1.2 or later, trusting f's CA only.
func (f tlsFiles) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: f.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("redistest: serial number: %w", err)
	}
	return n, nil
}

func writePEM(path, blockType string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("redistest: write %s: %w", path, err)
	}
	return nil
}
