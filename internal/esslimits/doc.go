// Package esslimits holds what ESS itself requires of the requests essworker
// makes: how many load balancers one DetachLoadBalancers call takes, and what
// a region ID looks like. The job contract (tasks) and the ESS client
// (essclient) both check against it, so the two never disagree. It imports
// nothing, so a producer importing tasks pulls in no ESS client.
package esslimits
