package esstest_test

import (
	"net/http"
	"testing"

	"essworker/essclient/esstest"
)

// FuzzSignedV3 sends requests signed with Signature V3 by the tests' own
// signer, whose action, version, parameters and body are fuzzed. A request
// signed as Alibaba's V3 document says must never be refused with
// SignatureDoesNotMatch, whatever its parameters hold; a non-empty
// authorization replaces the Authorization header, to feed its parser.
//
//	go test ./essclient/esstest -run '^$' -fuzz '^FuzzSignedV3$' -fuzztime 60000x
func FuzzSignedV3(f *testing.F) {
	type seed struct {
		action, version, group, lb, queryKey, queryValue, formKey, formValue, authorization string
		get                                                                                 bool
	}
	seeds := []seed{
		{esstest.ActionDetachLoadBalancers, esstest.APIVersion2022, "asg-fuzz", "lb-1", "Async", "true", "ClientToken", "tok-1", "", false},
		{esstest.ActionAttachLoadBalancers, esstest.APIVersion, "asg-fuzz", "lb-9", "LoadBalancer.1", "lb-8", "", "", "", false},
		{esstest.ActionDescribeScalingGroups, esstest.APIVersion2022, "", "", "ScalingGroupIds.1", "asg-fuzz", "PageSize", "51", "", true},
		{esstest.ActionDescribeScalingActivities, esstest.APIVersion2022, "asg-fuzz", "", "ScalingActivityIds.21", "x", "", "", "", false},
		{esstest.ActionDescribeScalingGroups, "2099-01-01", "", "", "a b*~/é", "c d+%", "", "", "", false},
		{esstest.ActionDescribeScalingGroups, esstest.APIVersion2022, "", "", "Action", "DetachLoadBalancers", "Version", esstest.APIVersion, "", false},
		{esstest.ActionDetachLoadBalancers, esstest.APIVersion2022, "asg-fuzz", "lb-2", "", "", "", "", "ACS3-HMAC-SHA256 Credential=TESTAKID,,SignedHeaders=;;,Signature=", false},
		{"", "", "", "", "", "", "", "", "ACS3-HMAC-SM3", true},
	}
	for _, s := range seeds {
		f.Add(s.action, s.version, s.group, s.lb, s.queryKey, s.queryValue, s.formKey, s.formValue, s.authorization, s.get)
	}
	f.Fuzz(func(t *testing.T, action, version, group, lb, queryKey, queryValue, formKey, formValue, authorization string, get bool) {
		c := v3Call{action: action, version: version, query: map[string]string{}, form: map[string]string{}}
		if get {
			c.method = http.MethodGet
		}
		lbName := "LoadBalancers.1"
		if version == esstest.APIVersion {
			lbName = "LoadBalancer.1"
		}
		for k, v := range map[string]string{"ScalingGroupId": group, lbName: lb, queryKey: queryValue} {
			if k != "" && v != "" {
				c.query[k] = v
			}
		}
		if formKey != "" {
			c.form[formKey] = formValue
		}
		req := signedV3(t, "http://ess.aliyuncs.com", c)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		code := serve(t, fuzzEmulator(t), req)
		if code == esstest.CodeSignatureDoesNotMatch && authorization == "" {
			t.Errorf("a correctly signed request was refused: %s %s %v", req.Method, req.URL, req.Header)
		}
	})
}
