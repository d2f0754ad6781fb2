package apiserver

import (
	"encoding/json"
	"net/http"
)

// Error codes of the answers, as in api/openapi.yaml.
const (
	codeInvalidPayload       = "InvalidPayload"
	codeInvalidParameter     = "InvalidParameter"
	codeUnauthorized         = "Unauthorized"
	codeIdempotencyConflict  = "IdempotencyConflict"
	codePayloadTooLarge      = "PayloadTooLarge"
	codeUnsupportedMediaType = "UnsupportedMediaType"
	codeNotFound             = "NotFound"
	codeMethodNotAllowed     = "MethodNotAllowed"
	codeServiceUnavailable   = "ServiceUnavailable"
)

// apiError is the one shape of every error answer:
// {"error":{"code":"...","message":"..."[,"field":"..."]}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError answers status with e.
func writeError(w http.ResponseWriter, status int, e apiError) {
	writeJSON(w, status, struct {
		Error apiError `json:"error"`
	}{e})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"InternalError","message":"cannot encode the answer"}}`)
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Header values of every JSON answer, shared by all answers: net/http copies
// a handler's header before writing it and never changes its values.
var (
	contentTypeJSON = []string{"application/json"}
	noSniff         = []string{"nosniff"}
)
