package esstest_test

import (
	"fmt"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"essworker/essclient/esstest"
)

// Example_signatureV3 detaches a load balancer through Alibaba's newer
// generic client, darabonba-openapi, which signs with Signature V3 and here
// speaks API version 2022-02-22, as github.com/alibabacloud-go/ess-20220222
// does.
func Example_signatureV3() {
	srv := esstest.NewServer(esstest.Config{})
	defer srv.Close()
	if err := srv.AddScalingGroup(esstest.ScalingGroup{
		ScalingGroupId:  "asg-example",
		LoadBalancerIds: []string{"lb-a", "lb-b"},
	}); err != nil {
		panic(err)
	}

	client, err := openapi.NewClient(&openapi.Config{
		AccessKeyId:     dara.String(esstest.DefaultAccessKeyID),
		AccessKeySecret: dara.String(esstest.DefaultAccessKeySecret),
		Endpoint:        dara.String(strings.TrimPrefix(srv.URL, "http://")),
		Protocol:        dara.String("http"),
	})
	if err != nil {
		panic(err)
	}
	call := func(action string, query map[string]any) map[string]any {
		res, err := client.CallApi(&openapiutil.Params{
			Action: dara.String(action), Version: dara.String(esstest.APIVersion2022),
			Protocol: dara.String("HTTP"), Pathname: dara.String("/"), Method: dara.String("POST"),
			AuthType: dara.String("AK"), Style: dara.String("RPC"),
			ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
		}, &openapiutil.OpenApiRequest{Query: openapiutil.Query(query)}, &dara.RuntimeOptions{})
		if err != nil {
			panic(err)
		}
		return res["body"].(map[string]any)
	}

	call("DetachLoadBalancers", map[string]any{
		"ScalingGroupId": "asg-example",
		"LoadBalancers":  []*string{dara.String("lb-a")}, // sent as LoadBalancers.1
	})
	body := call("DescribeScalingGroups", map[string]any{
		"ScalingGroupIds": []*string{dara.String("asg-example")},
	})
	group := body["ScalingGroups"].([]any)[0].(map[string]any) // a plain array in 2022-02-22
	fmt.Println("attached:", group["LoadBalancerIds"])
	// Output:
	// attached: [lb-b]
}
