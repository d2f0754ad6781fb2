package esstest

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Signature V3's request headers.
const (
	headerAuthorization = "Authorization"
	headerAction        = "x-acs-action"
	headerVersion       = "x-acs-version"
	headerDate          = "x-acs-date"
	headerNonce         = "x-acs-signature-nonce"
	headerContentSHA256 = "x-acs-content-sha256"
	headerPrefixACS     = "x-acs-"
)

// requiredHeadersV3 are checked, in this order, after x-acs-action and the
// parts of the Authorization header; every one of them must also be signed.
var requiredHeadersV3 = []string{headerNonce, headerDate, headerVersion, headerContentSHA256}

// isV3 reports whether r is signed with Signature V3 rather than V1: V3 puts
// its signature in the Authorization header, V1 in the Signature parameter.
// The x-acs-action header tells nothing, as the older SDK sends it with V1.
func isV3(r *http.Request) bool {
	return r.Header.Get(headerAuthorization) != ""
}

// authorizationV3 is a parsed "ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=..." header.
type authorizationV3 struct {
	algorithm, credential, signedHeaders, signature string
}

func parseAuthorizationV3(h string) authorizationV3 {
	algorithm, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	a := authorizationV3{algorithm: algorithm}
	for _, field := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	return a
}

// authenticateV3 is the gateway for Signature V3, with the checks and codes of
// the V1 gateway (authenticate) in the same order: required pieces, access
// key, signature, timestamp and nonce, then Format and Version. Action and
// Version come from the x-acs-action and x-acs-version headers; on success p
// holds them as "Action" and "Version", as a V1 request's parameters do.
// body is the raw request body, which the signature covers through
// x-acs-content-sha256.
func (e *Emulator) authenticateV3(r *http.Request, p params, body []byte) *apiError {
	if r.Header.Get(headerAction) == "" {
		return errMissing(headerAction)
	}
	a := parseAuthorizationV3(r.Header.Get(headerAuthorization))
	if a.algorithm != signatureAlgorithmV3 {
		return errInvalid(headerAuthorization, "the signature algorithm must be "+signatureAlgorithmV3)
	}
	for _, part := range [][2]string{{"Credential", a.credential}, {"SignedHeaders", a.signedHeaders}, {"Signature", a.signature}} {
		if part[1] == "" {
			return errMissing(headerAuthorization + " " + part[0])
		}
	}
	for _, name := range requiredHeadersV3 {
		if r.Header.Get(name) == "" {
			return errMissing(name)
		}
	}
	secret, ok := e.cfg.AccessKeys[a.credential]
	if !ok {
		return newError(CodeInvalidAccessKeyID, "Specified access key is not found.")
	}
	signed := signedHeaderNames(a.signedHeaders)
	if name := unsignedHeader(r, signed, len(body) > 0); name != "" {
		return newError(CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation: the header %q is not among SignedHeaders.", name)
	}
	payloadHash := sha256Hex(body)
	if !strings.EqualFold(r.Header.Get(headerContentSHA256), payloadHash) {
		return newError(CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation: %s is not the SHA-256 of the request body.", headerContentSHA256)
	}
	query, aerr := queryParams(r)
	if aerr != nil {
		return aerr
	}
	headerValue := func(name string) string {
		if name == "host" {
			return strings.TrimSpace(r.Host)
		}
		return canonicalHeaderValue(r.Header.Values(name))
	}
	// The string to sign holds only a hash, never a header's value, so it can
	// go into the message without showing an STS token.
	sts, want := signV3(canonicalRequestV3(r.Method, query, signed, headerValue, payloadHash), secret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(a.signature))) != 1 {
		return newError(CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation. %s%s", stringToSignPrefix, sts)
	}
	if aerr := e.checkFreshness(a.credential, r.Header.Get(headerDate), r.Header.Get(headerNonce)); aerr != nil {
		return aerr
	}
	for _, pair := range [][2]string{{"Action", headerAction}, {"Version", headerVersion}} {
		name, header := pair[0], pair[1]
		if v, ok := p[name]; ok && v != r.Header.Get(header) {
			return errInvalid(name, "it differs from the "+header+" header")
		}
		p[name] = r.Header.Get(header)
	}
	return checkFormatAndVersion(p)
}

// unsignedHeader returns the first header that Signature V3 requires signed
// but signed lacks: host, every x-acs-* header the request carries (the
// action, version, date, nonce, body hash and an STS token among them), and
// Content-Type when there is a body. It returns "" when all are signed.
func unsignedHeader(r *http.Request, signed []string, hasBody bool) string {
	var present []string
	for name := range r.Header {
		if lower := strings.ToLower(name); strings.HasPrefix(lower, headerPrefixACS) {
			present = append(present, lower)
		}
	}
	slices.Sort(present)
	required := append([]string{"host", headerAction}, requiredHeadersV3...)
	required = append(required, present...)
	if hasBody {
		required = append(required, "content-type")
	}
	for _, name := range required {
		if !slices.Contains(signed, name) {
			return name
		}
	}
	return ""
}

// queryParams are the parameters of the query string alone: Signature V3
// signs them in the canonical query and a form body through its hash.
func queryParams(r *http.Request) (map[string]string, *apiError) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, newError(CodeInvalidParameter, "The request parameters cannot be parsed: %v.", err)
	}
	out := make(map[string]string, len(q))
	for k, vs := range q {
		out[k] = vs[0] // parseParams already refused a name given more than once
	}
	return out, nil
}
