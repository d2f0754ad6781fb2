package esstest_test

import (
	"fmt"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"

	"essworker/essclient/esstest"
)

// Example detaches a load balancer through the real SDK and proves with Stats
// that a retry with the same ClientToken did not detach twice.
func Example() {
	srv := esstest.NewServer(esstest.Config{})
	defer srv.Close()
	if err := srv.AddScalingGroup(esstest.ScalingGroup{
		ScalingGroupId:  "asg-example",
		LoadBalancerIds: []string{"lb-a", "lb-b"},
	}); err != nil {
		panic(err)
	}

	client, err := ess.NewClientWithAccessKey(esstest.DefaultRegionID, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret)
	if err != nil {
		panic(err)
	}
	for range 2 { // the second call is a retry with the same token
		req := ess.CreateDetachLoadBalancersRequest()
		req.Scheme = "http"
		req.Domain = strings.TrimPrefix(srv.URL, "http://")
		req.ScalingGroupId = "asg-example"
		req.LoadBalancer = &[]string{"lb-a"}
		req.ClientToken = "example-token-1"
		if _, err := client.DetachLoadBalancers(req); err != nil {
			panic(err)
		}
	}

	g, _ := srv.ScalingGroup("asg-example")
	st := srv.Stats()
	fmt.Println("attached:", g.LoadBalancerIds)
	fmt.Println("calls:", st.Calls["DetachLoadBalancers"]["OK"], "applied:", st.DetachesApplied)
	// Output:
	// attached: [lb-b]
	// calls: 2 applied: 1
}
