package essclient

import (
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	const secret = "s3cr/et+=*~"
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"URL query dropped",
			`Post "https://ess.aliyuncs.com/?AccessKeyId=AK&Action=DetachLoadBalancers&Signature=abc%3D&SecurityToken=T": EOF`, nil,
			`Post "https://ess.aliyuncs.com/": EOF`},
		{"bare query parameters",
			`AccessKeyId=AK&Action=X&SignatureNonce=n1&Signature=abc%2B%3D&SecurityToken=T&BearerToken=B`, nil,
			`[redacted]&Action=X&[redacted]&[redacted]&[redacted]&[redacted]`},
		{"SignatureMethod kept", `SignatureMethod=HMAC-SHA1&SignatureVersion=1.0`, nil, `SignatureMethod=HMAC-SHA1&SignatureVersion=1.0`},
		{"encoded pairs stop at %26",
			`POST&%2F&AccessKeyId%3DAK%26Action%3DX%26SecurityToken%3DT%252Fx%26Version%3D1`, nil,
			`POST&%2F&[redacted]%26Action%3DX%26[redacted]%26Version%3D1`},
		{"string to sign cut",
			`Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3DAK`, nil,
			`Specified signature is not matched with our calculation. server string to sign is: [redacted]`},
		{"user info", `proxyconnect tcp: dial http://user:hunter2@proxy:3128 failed`, nil, `proxyconnect tcp: dial http://[redacted]@proxy:3128 failed`},
		{"JSON field", `{"AccessKeySecret":"x1","SecurityToken": "y2","Code":"OK"}`, nil, `{[redacted]",[redacted]","Code":"OK"}`},
		{"secret raw and encoded", "raw " + secret + " enc " + percentEncode(secret) + " twice " + percentEncode(percentEncode(secret)), []string{secret, ""},
			"raw [redacted] enc [redacted] twice [redacted]"},
		{"nothing to remove", "dial tcp 127.0.0.1:1: connect: connection refused", []string{"zzz"}, "dial tcp 127.0.0.1:1: connect: connection refused"},
	}
	for _, tt := range tests {
		if got := Scrub(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("%s:\n got  %s\n want %s", tt.name, got, tt.want)
		}
	}
}

func TestScrubNeverLeavesParameterNames(t *testing.T) {
	t.Parallel()
	in := `GET https://h/?Signature=a&AccessKeyId=b&SecurityToken=c x Signature=d AccessKeyId=e SecurityToken=f ` +
		`AccessKeyId%3Dg SecurityToken%253Dh`
	out := Scrub(in)
	for _, bad := range []string{"Signature=", "AccessKeyId=", "SecurityToken=", "AccessKeyId%3D", "SecurityToken%253D"} {
		if strings.Contains(out, bad) {
			t.Errorf("Scrub left %q: %s", bad, out)
		}
	}
}
