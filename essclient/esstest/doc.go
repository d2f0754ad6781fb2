// Package esstest is an in-process fake of the Alibaba Cloud Auto Scaling
// (ESS) endpoint for tests, in the style of net/http/httptest.
//
// NewServer starts an Emulator on a loopback port; point the real SDK client at
// its URL, with its Credentials:
//
//	srv := esstest.NewServer(esstest.Config{Clock: clock})
//	defer srv.Close()
//	srv.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}})
//	client, _ := ess.NewClientWithProvider(esstest.DefaultRegionID, srv.Credentials())
//	req := ess.CreateDetachLoadBalancersRequest()
//	req.Scheme, req.Domain = "http", strings.TrimPrefix(srv.URL, "http://")
//
// NewUnstartedServer and Start split NewServer in two, as in httptest: in
// between, a test may wrap Server.Config.Handler to see every request before
// the emulator answers it. New returns the bare Emulator, an http.Handler.
//
// # What it emulates
//
// The gateway checks what ESS checks, before anything else: the common
// parameters (MissingParameter), the access key (InvalidAccessKeyId.NotFound),
// the Signature V1 (SignatureDoesNotMatch, with "server string to sign is:" so
// the SDK can compare), the Timestamp (InvalidTimeStamp.Expired beyond ±15
// minutes) and the SignatureNonce (SignatureNonceUsed within 15 minutes), then
// the Action (404 InvalidApi.NotFound). Parameters come from the query string
// and from a form body, by GET or POST. Timestamp and nonce use the real clock,
// because the SDK stamps requests with the real time; everything else uses
// Config.Clock.
//
// # Signatures and API versions
//
// A request with an Authorization header is checked as Signature V3
// (ACS3-HMAC-SHA256, the default of github.com/alibabacloud-go/ess-20220222
// and darabonba-openapi), any other as Signature V1, with the same gateway
// checks and codes. V3 takes Action, Version, timestamp and nonce from the
// x-acs-action, x-acs-version, x-acs-date and x-acs-signature-nonce headers;
// it must sign host, every x-acs-* header it sends (x-acs-security-token with
// STS) and Content-Type when it sends a body, and x-acs-content-sha256 must be
// the body's SHA-256, else SignatureDoesNotMatch. Either signature may use API
// version APIVersion (2014-08-28) or APIVersion2022 (2022-02-22); any other is
// InvalidParameter. APIVersion2022 names lists ScalingGroupIds.N,
// ScalingActivityIds.N and LoadBalancers.N, and its Describe answers are plain
// arrays ("ScalingGroups":[...], "LoadBalancerIds":[...]) where APIVersion's
// are wrapper objects ("ScalingGroups":{"ScalingGroup":[...]}), as each
// version's SDK models have them. Example_signatureV3 calls the emulator with
// darabonba-openapi.
//
// The actions are DetachLoadBalancers, AttachLoadBalancers,
// DescribeScalingGroups and DescribeScalingActivities, answered in the shapes
// the SDK's typed responses decode. Groups live in a region (RegionId); a group
// of another region is not found, nor are its activities, by group or by
// ScalingActivityId. A synchronous detach or attach applies before it answers.
// An asynchronous one (Async=true) answers a ScalingActivityId at once; the
// activity stays InProgress, its Progress rising, for the group's or the
// Config's ActivityDuration, then ends with the group's ActivityStatusCode:
// Successful and Warning apply the change then, Failed and Rejected do not.
// Activity state is computed from the Clock when read, so FakeClock.Advance
// ends an activity without any goroutine or sleep.
//
// A group also runs activities of its own, as real groups run scale-outs and
// health-check replacements: StartGroupActivity (or POST
// /_emulator/scaling-groups/{ScalingGroupId}/activities) starts one, listed by
// DescribeScalingActivities like the others, that ends as its GroupActivity
// says and changes nothing. A group runs one detach or attach activity at a
// time and any number of its own; while any of them is InProgress, a detach or
// attach gets 400 ScalingActivityInProgress.
//
// ClientToken: the first successful answer of a token is kept for 24 hours (by
// the Clock), per action. The same token with the same parameters gets that
// answer again (same ScalingActivityId, a fresh RequestId) and does nothing;
// with other parameters it gets 400 IdempotentParameterMismatch. Failed
// requests are not kept, so their retry may do the work.
//
// Every error answer is ESS's JSON with the five string fields RequestId,
// HostId, Code, Message and Recommend; every answer has a fresh RequestId.
//
// # Faults and stats
//
// SetFaults (or POST /_emulator/faults) installs a FaultPlan per action or "*".
// For each call past the gateway, in order: ThrottleQPS answers 400
// Throttling.User beyond that rate (a token bucket per action, by the Clock);
// ErrorRate answers one of ErrorCodes without doing the work; the action runs;
// LostAnswerRate closes the connection without an answer, the work done;
// ErrorAfterWorkRate answers one of ErrorCodes instead of a success, the work
// done and the ClientToken keeping the success (a call that fails on its own
// keeps its error); Latency delays the answer, and a client that goes away
// meanwhile gets none. The ErrorRate and ErrorAfterWorkRate answers carry the
// fault's Status, else ESS's HTTP status of the code (see StatusForCode).
// Randomness comes from Config.Seed only, so a sequential test replays exactly.
//
// Stats counts calls by action and answer code ("OK" on success, "LostAnswer"
// for a dropped answer), DetachesApplied (detaches that changed a group, when
// the change happened: at once, or when an activity ended Successful or
// Warning), ActivitiesCreated (by detaches and attaches) and
// GroupActivitiesCreated (by StartGroupActivity), so a test can prove "applied
// exactly once".
//
// # Control endpoints
//
// Under /_emulator/, without signature: GET stats, GET and POST faults, GET and
// POST scaling-groups (one group in the State file's shape; adds or replaces),
// POST scaling-groups/{ScalingGroupId}/activities (a GroupActivity; answers the
// activity in the shape DescribeScalingActivities lists it, 404
// InvalidScalingGroupId.NotFound for an unknown group).
// cmd/ess-emulator serves the same Emulator as a program.
package esstest
