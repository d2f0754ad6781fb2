package esstest

// APIVersion2022 is ESS's newer API version, the one of Alibaba's newer Go SDK
// (github.com/alibabacloud-go/ess-20220222). The emulator serves it next to
// APIVersion, with either signature; the two differ in the names of list
// parameters and in the shape of the Describe answers.
//
// What follows relies on that SDK's public request and response models
// (client/*_request_model.go and client/*_response_body_model.go of
// github.com/alibabacloud-go/ess-20220222) and on darabonba-openapi's
// openapiutil.Query, which sends a list as name.1, name.2, ...
const APIVersion2022 = "2022-02-22"

// listNames2022 are the list parameters that APIVersion2022 names otherwise,
// by their APIVersion name (docs/ESS.md, API versions).
var listNames2022 = map[string]string{
	"LoadBalancer":      "LoadBalancers",
	"ScalingGroupId":    "ScalingGroupIds",
	"ScalingActivityId": "ScalingActivityIds",
}

// listName is the name of the list parameter called name in APIVersion, in
// the API version of the request.
func (p params) listName(name string) string {
	if n, ok := listNames2022[name]; ok && p["Version"] == APIVersion2022 {
		return n
	}
	return name
}

// plainArrays reports whether the request's API version answers lists as
// plain JSON arrays, without APIVersion's wrapper objects.
func (p params) plainArrays() bool { return p["Version"] == APIVersion2022 }

// groupJSON2022 is one element of DescribeScalingGroups in APIVersion2022.
// Its LoadBalancerIds, a plain array, hides groupJSON's wrapped one: encoding/json
// takes the field of the shallower depth.
type groupJSON2022 struct {
	groupJSON
	LoadBalancerIds []string `json:"LoadBalancerIds"`
}

type groupsResponse2022 struct {
	page
	ScalingGroups []groupJSON2022 `json:"ScalingGroups"`
}

func (r groupsResponse2022) withRequestID(id string) any { r.RequestId = id; return r }

// plain is r in APIVersion2022's shape.
func (r groupsResponse) plain() groupsResponse2022 {
	out := groupsResponse2022{page: r.page, ScalingGroups: make([]groupJSON2022, len(r.ScalingGroups.ScalingGroup))}
	for i, g := range r.ScalingGroups.ScalingGroup {
		out.ScalingGroups[i] = groupJSON2022{groupJSON: g, LoadBalancerIds: append([]string{}, g.LoadBalancerIds.LoadBalancerId...)}
	}
	return out
}

type activitiesResponse2022 struct {
	page
	ScalingActivities []activityJSON `json:"ScalingActivities"`
}

func (r activitiesResponse2022) withRequestID(id string) any { r.RequestId = id; return r }

// plain is r in APIVersion2022's shape; an activity's fields are the same in
// both versions.
func (r activitiesResponse) plain() activitiesResponse2022 {
	return activitiesResponse2022{page: r.page, ScalingActivities: r.ScalingActivities.ScalingActivity}
}
