// Package tasks is the job contract of essworker: the asynq task that detaches
// load balancers from an Alibaba Cloud Auto Scaling (ESS) scaling group, its
// payload, its validation, its constructor, the producer API and the result
// the worker writes. A producer in another Go service imports this package
// and nothing else of essworker; it pulls in asynq, go-redis and uuid, never
// the Alibaba SDK. The worker's handler is in internal/detach.
//
// # Producing jobs from Go
//
//	client := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:6379"})
//	defer client.Close()
//	results, err := tasks.Enqueue(ctx, client, tasks.DetachPayload{
//		ScalingGroupId:  "asg-bp1ffogfdauy0jw0xxxx",
//		LoadBalancerIds: []string{"lb-2zeur05gfsxxxx"},
//		Async:           true,
//		ClientToken:     requestID, // optional; a new UUID when empty
//	})
//
// Enqueue validates the request, cuts it into jobs of at most
// MaxLoadBalancers load balancers (SplitDetach), and queues each with
// NewDetachLoadBalancersTask. Each EnqueueResult says whether the job was
// queued (StateEnqueued) or was already there (StateDuplicate).
//
// A Producer (NewProducer, on a go-redis client) does the same and also looks
// in every queue before it queues anything: a job already queued with the same
// payload is a duplicate; a ClientToken taken by another payload, or by a job
// of another queue, fails the whole call with ErrIdempotencyConflict and
// queues nothing. Producer.Job finds a job by its ClientToken in whichever
// queue holds it. The producer API (cmd/api) and the enqueue command use it.
//
// # Scheduling jobs
//
// A job may wait for a chosen time: Producer.EnqueueAt takes a Schedule
// (ScheduleAt, ScheduleIn), and Enqueue honours asynq.ProcessAt and
// asynq.ProcessIn. The time is rounded up to a whole second (asynq keeps whole
// seconds, rounded down, so the job never runs early); a time in the past or
// more than MaxScheduleAhead (30 days) ahead is refused with
// ErrInvalidSchedule and nothing is queued. Such a job is reported
// StateScheduled and sits in asynq's state "scheduled" until its time. The
// same request again is a duplicate, whatever time it asks for.
//
// # The contract
//
// Task type: TypeDetachLoadBalancers ("ess:detach_load_balancers").
//
// Payload: one JSON object with ESS's own DetachLoadBalancers parameter names:
//
//	{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-bp1ffogfdauy0jw0xxxx",
//	 "LoadBalancerIds":["lb-2zeur05gfsxxxx"],"ForceDetach":false,"Async":true,
//	 "ClientToken":"4f8e2c1a-9d3b-4c57-8e61-2b7f0a9c1d44"}
//
// Its fields:
//
//   - RegionId: optional (the worker's default region); lowercase letters,
//     digits and dashes, e.g. "cn-hangzhou".
//   - ScalingGroupId: required.
//   - LoadBalancerIds: 1 to 5 distinct IDs.
//   - ForceDetach, Async: booleans, default false.
//   - ClientToken: printable ASCII without spaces, at most 64 characters. Every
//     attempt of the job sends it to ESS, so a retry never detaches twice.
//     Optional: a job without one uses its asynq task ID.
//
// IDs and tokens are printable ASCII without spaces. The worker decodes the
// payload strictly (DecodeDetachPayload): a field name it does not know
// (exact case), a field given twice, a value of the wrong JSON type or anything
// after the object makes the job invalid. An invalid job is archived at once,
// never retried, with a message naming the field, e.g.
// "invalid payload: LoadBalancerIds[2]: empty".
//
// Task ID: "detach:" + ClientToken (TaskID). asynq refuses a second task with
// an ID already in the queue, including a finished one kept for its retention
// (DefaultRetention), so enqueueing the same request twice is a reported
// duplicate, not a second detach.
//
// # Drains
//
// A drain (TypeDrainLoadBalancer, "ess:drain_load_balancer") takes one load
// balancer out of every scaling group of a region. Its payload, decoded as
// strictly as a detach payload (DecodeDrainPayload):
//
//	{"RegionId":"cn-hangzhou","LoadBalancerId":"lb-2zeur05gfsxxxx",
//	 "ForceDetach":false,"Async":true,"ClientToken":"incident-17"}
//
// LoadBalancerId is required; the other fields are as in a detach payload.
// The worker lists the region's groups and queues, in the drain's queue, one
// detach job per group that holds the load balancer, with the drain's
// ForceDetach and Async, its region, and the token
// DrainGroupToken(drainToken, groupID), so a drain run again queues
// duplicates, not second detaches. Its task ID is "drain:" + ClientToken
// (DrainTaskID); its result is a DrainResult listing the jobs. NewDrainTask,
// EnqueueDrain and Producer.EnqueueDrain queue one; Producer.DrainJob finds it.
//
// # Producing jobs from other languages
//
// Write the task the way asynq does (any asynq-compatible client), with:
// type "ess:detach_load_balancers"; the payload above as UTF-8 JSON; task ID
// "detach:" + ClientToken, always with a ClientToken you chose; queue "default"
// (or the one the workers serve); max retry 25; retention 24h. More than 5
// load balancers: send several jobs, chunk i (from 0) holding load balancers
// 5i to 5i+4 in order, with ClientToken the version 5 UUID
// (SHA-1, RFC 9562) of the name token+":"+i in namespace
// 8b0d7f5e-3c52-4f0e-9a51-6d2f1e7c4a90 (ChunkToken), so a Go producer and
// yours agree on the jobs of one request. Or submit the same JSON to the
// producer API (cmd/api, POST /v1/detach-jobs), or run the enqueue command,
// which takes it one request per line (ParseDetachLines); both split requests
// and detect duplicates and conflicts with Producer.
package tasks
