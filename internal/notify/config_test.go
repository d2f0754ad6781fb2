package notify_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"essworker/internal/notify"
)

// TestSign checks the signature against one computed with openssl:
// printf '{"a":1}' | openssl dgst -sha256 -hmac key -hex
func TestSign(t *testing.T) {
	t.Parallel()
	const want = "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
	if got := notify.Sign([]byte("key"), []byte(`{"a":1}`)); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestParseURLAndRedact(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "ftp://h/", "http://", "://x", "/relative"} {
		if _, err := notify.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
		}
	}
	_, err := notify.ParseURL("ftp://user:pw-Do-Not-Show@h/")
	if err == nil || strings.Contains(err.Error(), "pw-Do-Not-Show") {
		t.Errorf("ParseURL error %v quotes the URL", err)
	}
	u, err := url.Parse("https://user:pw@hooks.example.com:8443/path?token=t#frag")
	if err != nil {
		t.Fatal(err)
	}
	if got := notify.Redact(u); got != "https://hooks.example.com:8443/path" {
		t.Errorf("Redact = %q", got)
	}
}

func TestReadSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := notify.ReadSecret(write("ok", "  s3cret-value \n"))
	if err != nil || string(got) != "s3cret-value" {
		t.Errorf("ReadSecret = %q, %v; want the trimmed content", got, err)
	}
	for _, p := range []string{write("empty", ""), write("blank", " \n\t\n"), filepath.Join(dir, "missing")} {
		if _, err := notify.ReadSecret(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("ReadSecret(%s) = %v; want an error naming the file", p, err)
		}
	}
}
