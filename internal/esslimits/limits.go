package esslimits

import "regexp"

// LoadBalancersPerCall is the most load balancers one DetachLoadBalancers
// call takes (docs/ESS.md, "DetachLoadBalancers").
const LoadBalancersPerCall = 5

// regionPattern is a region ID: lowercase letters and digits in parts joined
// by single dashes, starting with a letter ("cn-hangzhou", "ap-southeast-1").
var regionPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// MaxRegionIDLen bounds a region ID; real ones are under 25 characters.
const MaxRegionIDLen = 64

// ValidRegionID reports whether s looks like an Alibaba Cloud region ID.
func ValidRegionID(s string) bool {
	return len(s) <= MaxRegionIDLen && regionPattern.MatchString(s)
}
