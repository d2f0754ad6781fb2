package essclient

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// redacted stands in for every piece of text Scrub removes.
const redacted = "[redacted]"

var (
	// stringToSignRE: ESS's SignatureDoesNotMatch message ends with the server's
	// string to sign, which holds every request parameter (STS token included).
	stringToSignRE = regexp.MustCompile(`(?is)(string to sign is:).*`)
	// urlQueryRE: the SDK sends every parameter, credentials and signature
	// included, in the query string, and transport errors quote that URL.
	urlQueryRE = regexp.MustCompile(`(?i)(\bhttps?://[^\s"'<>?#]*)\?[^\s"'<>#]*`)
	// userInfoRE: a proxy or endpoint URL may carry user:password@.
	userInfoRE = regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s"'<>@]*@`)
	// paramRE: a credential parameter outside a URL (a bare query, a
	// percent-encoded string to sign, a JSON field). Its value ends at "&" or
	// "%26", the pair separators of the plain and the encoded forms.
	// It must not follow a letter (so "xSignature" is not a name), but may
	// follow a digit: in "%26SecurityToken%3D" there is no word boundary.
	paramRE = regexp.MustCompile(`(?i)(^|[^a-z])"?(?:AccessKeyId|AccessKeySecret|Signature|SignatureNonce|SecurityToken|BearerToken|Password)"?(?:=|%3D|%253D|\s*:\s*"?)(?:[^&%\s"',}]|%(?:[013-9A-Fa-f][0-9A-Fa-f]|2[0-57-9A-Fa-f]))*`)
)

// Scrub returns text without credentials: every given secret (raw and in the
// percent-encodings the SDK uses), the query string of every URL, user info in
// URLs, credential parameters (AccessKeyId, Signature, SignatureNonce,
// SecurityToken, BearerToken, AccessKeySecret, Password) wherever they appear,
// and the string to sign that ESS echoes on SignatureDoesNotMatch. Each removal
// leaves "[redacted]". Use it on any SDK error text before logging or storing it.
func Scrub(text string, secrets ...string) string {
	for _, v := range secretVariants(secrets) {
		text = strings.ReplaceAll(text, v, redacted)
	}
	text = stringToSignRE.ReplaceAllString(text, "${1} "+redacted)
	text = urlQueryRE.ReplaceAllString(text, "${1}")
	text = userInfoRE.ReplaceAllString(text, "${1}"+redacted+"@")
	return paramRE.ReplaceAllString(text, "${1}"+redacted)
}

// secretVariants lists each secret as it may appear in text: raw, query- and
// path-escaped, and percent-encoded once and twice as in a string to sign;
// longest first, so no encoded form is left half replaced.
func secretVariants(secrets []string) []string {
	var vs []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		once := percentEncode(s)
		vs = append(vs, s, url.QueryEscape(s), url.PathEscape(s), once, percentEncode(once))
	}
	slices.SortFunc(vs, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	return slices.Compact(vs)
}

// percentEncode is the RFC 3986 encoding of the RPC signature (docs/ESS.md,
// Signature V1).
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}
