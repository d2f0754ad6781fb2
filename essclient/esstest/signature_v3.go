package esstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// signatureAlgorithmV3 is the one Signature V3 algorithm the emulator verifies,
// the default of Alibaba's newer SDKs (darabonba-openapi). Its definition is
// Alibaba's "V3 request structure and signature":
// https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature
const signatureAlgorithmV3 = "ACS3-HMAC-SHA256"

// canonicalQueryV3 is the query string as Signature V3 signs it: parameters
// sorted by name, names and values percent-encoded as in Signature V1, an
// empty value kept as "name=".
func canonicalQueryV3(query map[string]string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = percentEncode(k) + "=" + percentEncode(query[k])
	}
	return strings.Join(parts, "&")
}

// signedHeaderNames reads the SignedHeaders of an Authorization header:
// names separated by ";", lower-cased, sorted and without repeats, which is
// the order the canonical request lists them in.
func signedHeaderNames(s string) []string {
	var names []string
	for _, n := range strings.Split(s, ";") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// canonicalHeaderValue is one header's value in the canonical request: its
// values trimmed, sorted and joined by ",".
func canonicalHeaderValue(values []string) string {
	vs := make([]string, len(values))
	for i, v := range values {
		vs[i] = strings.TrimSpace(v)
	}
	slices.Sort(vs)
	return strings.Join(vs, ",")
}

// canonicalRequestV3 is the text Signature V3 hashes: the method, the path
// (always "/" for ESS's RPC style), the canonical query, one "name:value" line
// per signed header, the signed header names joined by ";", and the hex
// SHA-256 of the body. headerValue gives a signed header's canonical value.
func canonicalRequestV3(method string, query map[string]string, signed []string, headerValue func(name string) string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteString("\n/\n")
	b.WriteString(canonicalQueryV3(query))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// signV3 returns Signature V3's string to sign of a canonical request and its
// signature, hex(HMAC-SHA256(secret, stringToSign)).
func signV3(canonicalRequest, secret string) (stringToSign, signature string) {
	stringToSign = signatureAlgorithmV3 + "\n" + sha256Hex([]byte(canonicalRequest))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(stringToSign))
	return stringToSign, hex.EncodeToString(mac.Sum(nil))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
