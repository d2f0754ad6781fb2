package esstest

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Paging limits of the Describe actions.
const (
	defaultPageSize = 10
	maxPageSize     = 50
	maxDescribeIDs  = 20
)

// page is the paging part of a Describe answer.
type page struct {
	RequestId  string `json:"RequestId"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	TotalCount int    `json:"TotalCount"`
}

func parsePaging(p params) (number, size int, aerr *apiError) {
	if number, aerr = p.integer("PageNumber", 1, 1, math.MaxInt32); aerr != nil {
		return 0, 0, aerr
	}
	if size, aerr = p.integer("PageSize", defaultPageSize, 1, maxPageSize); aerr != nil {
		return 0, 0, aerr
	}
	return number, size, nil
}

// pageOf returns the items of page number (from 1) of the given size.
func pageOf[T any](items []T, number, size int) []T {
	start := min(len(items), (number-1)*size)
	end := min(len(items), start+size)
	return append([]T{}, items[start:end]...) // [] rather than null when empty
}

type loadBalancerIDs struct {
	LoadBalancerId []string `json:"LoadBalancerId"`
}

// groupJSON is one element of DescribeScalingGroups, typed as the SDK's ess.ScalingGroup.
type groupJSON struct {
	ScalingGroupId   string          `json:"ScalingGroupId"`
	ScalingGroupName string          `json:"ScalingGroupName"`
	RegionId         string          `json:"RegionId"`
	LifecycleState   string          `json:"LifecycleState"`
	MinSize          int             `json:"MinSize"`
	MaxSize          int             `json:"MaxSize"`
	TotalCapacity    int             `json:"TotalCapacity"`
	ActiveCapacity   int             `json:"ActiveCapacity"`
	LoadBalancerIds  loadBalancerIDs `json:"LoadBalancerIds"`
}

type groupsResponse struct {
	page
	ScalingGroups struct {
		ScalingGroup []groupJSON `json:"ScalingGroup"`
	} `json:"ScalingGroups"`
}

func (r groupsResponse) withRequestID(id string) any { r.RequestId = id; return r }

func (e *Emulator) describeScalingGroups(_ time.Time, p params) (response, *apiError) {
	ids, aerr := p.list(p.listName("ScalingGroupId"), maxDescribeIDs)
	if aerr != nil {
		return nil, aerr
	}
	number, size, aerr := parsePaging(p)
	if aerr != nil {
		return nil, aerr
	}
	region := p["RegionId"]
	var all []groupJSON
	for _, id := range e.groupOrder {
		g := e.groups[id]
		if (region != "" && g.RegionId != region) || (len(ids) > 0 && !slices.Contains(ids, id)) {
			continue
		}
		all = append(all, groupJSON{
			ScalingGroupId:   g.ScalingGroupId,
			ScalingGroupName: g.ScalingGroupId,
			RegionId:         g.RegionId,
			LifecycleState:   g.LifecycleState,
			LoadBalancerIds:  loadBalancerIDs{LoadBalancerId: slices.Clone(g.LoadBalancerIds)},
		})
	}
	var r groupsResponse
	r.PageNumber, r.PageSize, r.TotalCount = number, size, len(all)
	r.ScalingGroups.ScalingGroup = pageOf(all, number, size)
	if p.plainArrays() {
		return r.plain(), nil
	}
	return r, nil
}

type activitiesResponse struct {
	page
	ScalingActivities struct {
		ScalingActivity []activityJSON `json:"ScalingActivity"`
	} `json:"ScalingActivities"`
}

func (r activitiesResponse) withRequestID(id string) any { r.RequestId = id; return r }

var activityStatuses = []string{StatusInProgress, StatusSuccessful, StatusWarning, StatusFailed, StatusRejected}

func (e *Emulator) describeScalingActivities(now time.Time, p params) (response, *apiError) {
	ids, aerr := p.list(p.listName("ScalingActivityId"), maxDescribeIDs)
	if aerr != nil {
		return nil, aerr
	}
	groupID := p["ScalingGroupId"]
	if groupID == "" && len(ids) == 0 {
		return nil, errMissing("ScalingGroupId")
	}
	status := p["StatusCode"]
	if status != "" && !slices.Contains(activityStatuses, status) {
		return nil, errInvalid("StatusCode", "it must be one of InProgress, Successful, Warning, Failed, Rejected")
	}
	number, size, aerr := parsePaging(p)
	if aerr != nil {
		return nil, aerr
	}
	region := p["RegionId"]
	var candidates []*activity
	if groupID != "" {
		if _, aerr := e.lookupGroup(groupID, region); aerr != nil {
			return nil, aerr
		}
		candidates = e.groupActivities[groupID]
	} else {
		for _, id := range ids {
			if a, ok := e.activities[id]; ok && !slices.Contains(candidates, a) {
				candidates = append(candidates, a)
			}
		}
		// IDs carry a zero-padded sequence number, so they sort in creation order.
		slices.SortFunc(candidates, func(a, b *activity) int { return strings.Compare(a.id, b.id) })
	}
	cutoff := now.Add(-activityRetention)
	var all []activityJSON
	for _, a := range slices.Backward(candidates) { // newest first, as ESS lists them
		if a.start.Before(cutoff) || (len(ids) > 0 && !slices.Contains(ids, a.id)) {
			continue
		}
		if region != "" && a.region != region { // an activity lives in its group's region
			continue
		}
		if v := a.json(now); status == "" || v.StatusCode == status {
			all = append(all, v)
		}
	}
	var r activitiesResponse
	r.PageNumber, r.PageSize, r.TotalCount = number, size, len(all)
	r.ScalingActivities.ScalingActivity = pageOf(all, number, size)
	if p.plainArrays() {
		return r.plain(), nil
	}
	return r, nil
}
