package esstest_test

import (
	"net/http"
	"testing"

	"essworker/essclient/esstest"
)

// strs turns a JSON array of strings (as decoded into any) into a []string;
// it fails the test on anything else, such as a wrapper object.
func strs(t *testing.T, v any) []string {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("%#v is not a JSON array", v)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		if out[i], ok = e.(string); !ok {
			t.Fatalf("element %d of %#v is not a string", i, v)
		}
	}
	return out
}

// objects turns a JSON array of objects into a []map[string]any; it fails the
// test on anything else, such as a wrapper object.
func objects(t *testing.T, v any) []map[string]any {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("%#v is not a JSON array", v)
	}
	out := make([]map[string]any, len(arr))
	for i, e := range arr {
		if out[i], ok = e.(map[string]any); !ok {
			t.Fatalf("element %d of %#v is not an object", i, v)
		}
	}
	return out
}

// TestV1APIVersion2022 shows a V1-signed request in API version 2022-02-22.
func TestV1APIVersion2022(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"), group("asg-2"))
	p := commonParams("DetachLoadBalancers")
	p["Version"], p["ScalingGroupId"], p["LoadBalancers.1"], p["Async"] = esstest.APIVersion2022, "asg-1", "lb-1", "true"
	status, body := rawCall(t, srv, "POST-query", signed(http.MethodPost, p, esstest.DefaultAccessKeySecret))
	activityID, _ := body["ScalingActivityId"].(string)
	if status != http.StatusOK || activityID == "" {
		t.Fatalf("detach: %d %v, want 200 with a ScalingActivityId", status, body)
	}

	p = commonParams("DescribeScalingActivities")
	p["Version"], p["ScalingActivityIds.1"] = esstest.APIVersion2022, activityID
	status, body = rawCall(t, srv, "GET", signed(http.MethodGet, p, esstest.DefaultAccessKeySecret))
	if acts := objects(t, body["ScalingActivities"]); status != http.StatusOK || len(acts) != 1 || acts[0]["ScalingActivityId"] != activityID {
		t.Fatalf("DescribeScalingActivities: %d %v, want %s", status, body, activityID)
	}

	p = commonParams("DescribeScalingGroups")
	p["Version"], p["ScalingGroupIds.1"] = esstest.APIVersion2022, "asg-2"
	status, body = rawCall(t, srv, "POST-form", signed(http.MethodPost, p, esstest.DefaultAccessKeySecret))
	groups := objects(t, body["ScalingGroups"])
	if status != http.StatusOK || len(groups) != 1 || groups[0]["ScalingGroupId"] != "asg-2" {
		t.Fatalf("DescribeScalingGroups: %d %v, want asg-2 alone", status, body)
	}
	if got := strs(t, groups[0]["LoadBalancerIds"]); len(got) != 0 {
		t.Errorf("LoadBalancerIds = %v, want []", got)
	}
}
