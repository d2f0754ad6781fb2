// Command ess-emulator serves the local ESS (Alibaba Cloud Auto Scaling)
// endpoint of package essworker/essclient/esstest as a program, for
// docker-compose, demos and end-to-end tests.
//
// Usage:
//
//	ess-emulator --addr HOST:PORT --state FILE [--activity-duration D] [--seed N] [--log-format json|text]
//
// Flags:
//
//	--addr               listen address (default 127.0.0.1:8080; port 0 picks a free port)
//	--state              JSON state file, required: {"AccessKeys":{...},"ScalingGroups":[...]};
//	                     AccessKeys default to {"TESTAKID":"TESTSECRET"} when empty
//	--activity-duration  how long an asynchronous activity stays InProgress (default 2s)
//	--seed               seed of the fault plan's randomness (default 1)
//	--log-format         json (default) or text
//
// It logs "ess-emulator listening on http://ADDR" with the address actually
// bound, then one line per API call (action, code, latency, request ID; never
// a credential or signature), all to standard error. SIGTERM or SIGINT shuts
// it down gracefully; it then exits 0. Bad flags or state exit 2; a failure
// to listen or serve exits 1.
//
// Besides the ESS API on "/", it serves the control endpoints under
// /_emulator/: GET stats, GET/POST faults, GET/POST scaling-groups, POST
// scaling-groups/{ScalingGroupId}/activities. See the esstest package
// documentation.
package main
