package essclient

import (
	"context"
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"
)

// ListPageSize is the page size of ListScalingGroups: the most
// DescribeScalingGroups answers in one page (docs/ESS.md, DescribeScalingGroups).
const ListPageSize = 50

// MaxListPages bounds the pages ListScalingGroups reads, so that an answer
// whose TotalCount never matches what the pages hold cannot keep it calling:
// 1,000 pages are 50,000 groups, far beyond a region's quota.
const MaxListPages = 1000

// ScalingGroupList is every scaling group of a region, as the pages of
// DescribeScalingGroups listed them.
type ScalingGroupList struct {
	// RequestIDs are ESS's request IDs, one per page read.
	RequestIDs    []string
	ScalingGroups []ScalingGroup
}

// ListScalingGroups lists every scaling group of a region (an empty regionID
// means Config.DefaultRegion): DescribeScalingGroups without group IDs, page
// after page of ListPageSize, each call under the limiter and reported to the
// observer as any other. It stops after the page that completes TotalCount,
// a short page or an empty one. A group listed twice (groups created or
// deleted while the pages are read shift them) appears once. Any failed page
// fails the whole list with that page's *Error.
func (c *Client) ListScalingGroups(ctx context.Context, regionID string) (ScalingGroupList, error) {
	const action = ActionDescribeScalingGroups
	region, err := c.region(action, regionID)
	if err != nil {
		return ScalingGroupList{}, err
	}
	var out ScalingGroupList
	seen := make(map[string]bool)
	for number := 1; ; number++ {
		if number > MaxListPages {
			return ScalingGroupList{}, invalidRequest(action, fmt.Sprintf("region %s lists more than %d pages of groups", region, MaxListPages))
		}
		req := ess.CreateDescribeScalingGroupsRequest()
		req.RegionId = region
		req.PageNumber = requests.NewInteger(number)
		req.PageSize = requests.NewInteger(ListPageSize)
		resp := ess.CreateDescribeScalingGroupsResponse()
		if err := c.call(ctx, action, region, req, resp); err != nil {
			return ScalingGroupList{}, err
		}
		out.RequestIDs = append(out.RequestIDs, resp.RequestId)
		page := groupsOf(resp)
		for _, g := range page {
			if !seen[g.ScalingGroupID] {
				seen[g.ScalingGroupID] = true
				out.ScalingGroups = append(out.ScalingGroups, g)
			}
		}
		if len(page) < ListPageSize || number*ListPageSize >= resp.TotalCount {
			return out, nil
		}
	}
}
