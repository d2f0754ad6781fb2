package apiserver

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// inFlight is the in-flight gauge's value.
func (m *apiMetrics) inFlight() float64 {
	var v dto.Metric
	if err := m.inflight.Write(&v); err != nil {
		return -1
	}
	return v.GetGauge().GetValue()
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.do(t, "POST", "/v1/detach-jobs", tokenCI, oneJob).jobs(t, http.StatusAccepted)
	a.do(t, "POST", "/v1/detach-jobs", tokenCI, oneJob).jobs(t, http.StatusOK)
	a.do(t, "POST", "/v1/detach-jobs", "", oneJob).wantError(t, http.StatusUnauthorized, codeUnauthorized, "")
	a.do(t, "GET", "/v1/detach-jobs/req-1", tokenCI, "").jobOf(t)
	a.do(t, "GET", "/nowhere", "", "").wantError(t, http.StatusNotFound, codeNotFound, "")
	r := a.do(t, "GET", "/metrics", "", "")
	body := string(r.body)
	for _, want := range []string{
		`essworker_api_requests_total{code="202",route="POST /v1/detach-jobs"} 1`,
		`essworker_api_requests_total{code="200",route="POST /v1/detach-jobs"} 1`,
		`essworker_api_requests_total{code="401",route="POST /v1/detach-jobs"} 1`,
		`essworker_api_requests_total{code="503",route="POST /v1/detach-jobs"} 0`,
		`essworker_api_requests_total{code="200",route="GET /v1/detach-jobs/{client_token}"} 1`,
		`essworker_api_requests_total{code="404",route="other"} 1`,
		`essworker_api_request_duration_seconds_count{route="POST /v1/detach-jobs"} 3`,
		`essworker_api_requests_in_flight 0`,
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}
