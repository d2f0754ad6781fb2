package apiserver

import (
	"net/http"
	"strings"
)

// anonymous is the client name of requests under --insecure-no-auth.
const anonymous = "anonymous"

// authenticated runs h with the name of the request's client, or answers 401
// when the request carries no token of the tokens file. The token itself is
// never logged, nor kept past the comparison.
func (s *Server) authenticated(route string, h func(http.ResponseWriter, *http.Request, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.InsecureNoAuth {
			h(w, r, anonymous)
			return
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		name, ok := "", false
		if strings.EqualFold(scheme, "Bearer") {
			name, ok = s.tokens.Load().lookup(strings.TrimSpace(token))
		}
		if !ok {
			s.log.Warn("unauthorized request", "route", route, "remote", r.RemoteAddr,
				"authorization_given", r.Header.Get("Authorization") != "")
			w.Header().Set("WWW-Authenticate", `Bearer realm="essworker"`)
			writeError(w, http.StatusUnauthorized, apiError{Code: codeUnauthorized,
				Message: "a valid bearer token is required: Authorization: Bearer TOKEN"})
			return
		}
		h(w, r, name)
	})
}
