package esstest

import "testing"

// TestSignatureVector checks the worked example of ESS's signature reference
// (docs/ESS.md, Signature V1).
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	p := map[string]string{
		"AccessKeyId":      "testid",
		"Action":           "DescribeScalingGroups",
		"Format":           "xml",
		"RegionId":         "cn-qingdao",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "1324fd0e-e2bb-4bb1-917c-bd6e437f1710",
		"SignatureVersion": "1.0",
		"TimeStamp":        "2014-08-15T11:10:07Z",
		"Version":          "2014-08-28",
		"Signature":        "ignored: never part of the string to sign",
	}
	if got, want := sign(stringToSign("GET", p), "testsecret"), "SmhZuLUnXmqxSEZ/GqyiwGqmf+M="; got != want {
		t.Errorf("signature = %s, want %s\nstring to sign: %s", got, want, stringToSign("GET", p))
	}
}

func TestPercentEncode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"AZaz09-_.~": "AZaz09-_.~",
		"a b":        "a%20b",
		"a*b":        "a%2Ab",
		"a+b/c=d&e":  "a%2Bb%2Fc%3Dd%26e",
		"é":          "%C3%A9",
		"":           "",
	} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
