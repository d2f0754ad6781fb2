package apiserver

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"essworker/tasks"
)

// TestReadBody: a body is read whole whether its length is announced or not,
// up to the contract's limit; a body cut short is an error, a longer one a
// *http.MaxBytesError.
func TestReadBody(t *testing.T) {
	t.Parallel()
	limit := strings.Repeat("x", tasks.MaxPayloadSize)
	for _, tt := range []struct {
		name   string
		body   io.Reader
		length int64
		want   string
		err    bool
	}{
		{"announced", strings.NewReader(oneJob), int64(len(oneJob)), oneJob, false},
		{"empty", strings.NewReader(""), 0, "", false},
		{"unannounced", io.MultiReader(strings.NewReader(oneJob)), -1, oneJob, false},
		{"at the limit, announced", strings.NewReader(limit), int64(len(limit)), limit, false},
		{"at the limit, unannounced", io.MultiReader(strings.NewReader(limit)), -1, limit, false},
		{"cut short", strings.NewReader(oneJob), int64(len(oneJob)) + 10, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/detach-jobs", nil)
			r.Body, r.ContentLength = io.NopCloser(tt.body), tt.length
			if tt.err {
				r.Body = io.NopCloser(io.MultiReader(tt.body, errReader{}))
			}
			got, err := readBody(httptest.NewRecorder(), r)
			switch {
			case tt.err && err == nil:
				t.Fatalf("read %d bytes and no error", len(got))
			case !tt.err && err != nil:
				t.Fatal(err)
			case !tt.err && string(got) != tt.want:
				t.Fatalf("read %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
	r := httptest.NewRequest("POST", "/v1/detach-jobs", io.MultiReader(strings.NewReader(limit+"x")))
	r.ContentLength = -1
	var tooLarge *http.MaxBytesError
	if _, err := readBody(httptest.NewRecorder(), r); !errors.As(err, &tooLarge) {
		t.Fatalf("a body over the limit: %v, want a *http.MaxBytesError", err)
	}
}

// errReader fails every read, as a connection cut mid-body does.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
