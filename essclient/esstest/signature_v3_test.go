package esstest

import "testing"

// V3 test vector: a DetachLoadBalancers request of API version 2022-02-22
// with a form body, and a query whose values need percent-encoding. The
// expected canonical request and signature were computed apart from this
// package (Python's hashlib, hmac and urllib.parse.quote, following Alibaba's
// V3 document); esstest_test checks the same vector against darabonba-openapi's
// own signer and the tests' signer.
var vectorV3 = struct {
	method, secret, body, payloadHash string
	query, headers                    map[string]string
	canonicalRequest, signature       string
}{
	method: "POST",
	secret: "testsecret",
	body:   "Async=true",
	query: map[string]string{
		"ScalingGroupId":  "asg-bp1",
		"LoadBalancers.1": "lb-a",
		"LoadBalancers.2": "lb b*~/é",
		"ClientToken":     "",
	},
	headers: map[string]string{
		"host":                  "ess.cn-hangzhou.aliyuncs.com",
		"content-type":          "application/x-www-form-urlencoded",
		"x-acs-action":          "DetachLoadBalancers",
		"x-acs-version":         "2022-02-22",
		"x-acs-date":            "  2026-11-25T09:54:00Z ",
		"x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
		"x-acs-content-sha256":  "aee013b190b872a0c529ca10bd6216936d04e03d7551e89d25668b69c80876c8",
	},
	payloadHash: "aee013b190b872a0c529ca10bd6216936d04e03d7551e89d25668b69c80876c8",
	canonicalRequest: "POST\n/\n" +
		"ClientToken=&LoadBalancers.1=lb-a&LoadBalancers.2=lb%20b%2A~%2F%C3%A9&ScalingGroupId=asg-bp1\n" +
		"content-type:application/x-www-form-urlencoded\n" +
		"host:ess.cn-hangzhou.aliyuncs.com\n" +
		"x-acs-action:DetachLoadBalancers\n" +
		"x-acs-content-sha256:aee013b190b872a0c529ca10bd6216936d04e03d7551e89d25668b69c80876c8\n" +
		"x-acs-date:2026-11-25T09:54:00Z\n" +
		"x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n" +
		"x-acs-version:2022-02-22\n" +
		"\n" +
		"content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
		"aee013b190b872a0c529ca10bd6216936d04e03d7551e89d25668b69c80876c8",
	signature: "00ebae31d8b115eb2ff63d5bfee6ff69d08ff70df8c7f2058e4492fa817f5e34",
}

func TestSignatureV3Vector(t *testing.T) {
	t.Parallel()
	v := vectorV3
	if got := sha256Hex([]byte(v.body)); got != v.payloadHash {
		t.Fatalf("body hash = %s, want %s", got, v.payloadHash)
	}
	// Unsorted, upper-case and repeated names, as a client might list them.
	signed := signedHeaderNames("x-acs-version;Host;content-type;x-acs-action;x-acs-date;x-acs-content-sha256;x-acs-signature-nonce;host")
	cr := canonicalRequestV3("post", v.query, signed, func(name string) string {
		return canonicalHeaderValue([]string{v.headers[name]})
	}, v.payloadHash)
	if cr != v.canonicalRequest {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", cr, v.canonicalRequest)
	}
	sts, sig := signV3(cr, v.secret)
	if want := "ACS3-HMAC-SHA256\n395145fe7666c94447ec8ead5d932ca8e5ad25caf5432cf8d27d7cb4326fac0b"; sts != want {
		t.Errorf("string to sign = %q, want %q", sts, want)
	}
	if sig != v.signature {
		t.Errorf("signature = %s, want %s", sig, v.signature)
	}
}

func TestCanonicalHeaderValue(t *testing.T) {
	t.Parallel()
	if got, want := canonicalHeaderValue([]string{" b ", "a", "c\t"}), "a,b,c"; got != want {
		t.Errorf("canonicalHeaderValue = %q, want %q", got, want)
	}
}
