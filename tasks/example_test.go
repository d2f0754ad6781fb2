package tasks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/hibiken/asynq"

	"essworker/tasks"
)

func ExampleNewDetachLoadBalancersTask() {
	task, err := tasks.NewDetachLoadBalancersTask(tasks.DetachPayload{
		ScalingGroupId:  "asg-bp1ffogfdauy0jw0xxxx",
		LoadBalancerIds: []string{"lb-2zeur05gfsxxxx"},
		Async:           true,
		ClientToken:     "order-42",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(task.Type())
	fmt.Println(tasks.TaskID("order-42"))
	fmt.Println(string(task.Payload()))
	// Output:
	// ess:detach_load_balancers
	// detach:order-42
	// {"ScalingGroupId":"asg-bp1ffogfdauy0jw0xxxx","LoadBalancerIds":["lb-2zeur05gfsxxxx"],"ForceDetach":false,"Async":true,"ClientToken":"order-42"}
}

func ExampleNewDetachLoadBalancersTask_invalid() {
	_, err := tasks.NewDetachLoadBalancersTask(tasks.DetachPayload{
		ScalingGroupId:  "asg-bp1ffogfdauy0jw0xxxx",
		LoadBalancerIds: []string{"lb-1", "lb-2", ""},
	})
	fmt.Println(err)
	// Output:
	// invalid payload: LoadBalancerIds[2]: empty
}

func ExampleSplitDetach() {
	chunks, err := tasks.SplitDetach(tasks.DetachPayload{
		ScalingGroupId:  "asg-bp1ffogfdauy0jw0xxxx",
		LoadBalancerIds: []string{"lb-1", "lb-2", "lb-3", "lb-4", "lb-5", "lb-6", "lb-7"},
		ClientToken:     "order-42",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range chunks {
		fmt.Println(len(c.LoadBalancerIds), c.LoadBalancerIds, c.ClientToken)
	}
	// Output:
	// 5 [lb-1 lb-2 lb-3 lb-4 lb-5] e69ffa3c-6481-554c-bc1b-122f25978e52
	// 2 [lb-6 lb-7] 9c9c8aab-ad2d-5b19-9706-b9bebb6d8b70
}

func ExampleDecodeDetachPayload() {
	_, err := tasks.DecodeDetachPayload([]byte(`{"ScalingGroupId":"asg-1","LoadBalancerId":["lb-1"]}`))
	fmt.Println(err)
	// Output:
	// invalid payload: LoadBalancerId: unknown field
}

// A producer in another Go service imports essworker/tasks and asynq, and
// nothing else of essworker.
func Example_producer() {
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:6379"})
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	results, err := tasks.Enqueue(ctx, client, tasks.DetachPayload{
		RegionId:        "cn-hangzhou",
		ScalingGroupId:  "asg-bp1ffogfdauy0jw0xxxx",
		LoadBalancerIds: []string{"lb-2zeur05gfsxxxx", "lb-2zeur05gfsyyyy"},
		Async:           true,
		// The caller's own request ID: enqueueing the same request again,
		// after a crash or a timeout, is then reported as a duplicate.
		ClientToken: "deploy-2026-11-25-web",
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, tasks.ErrInvalidPayload): a bad request; otherwise Redis
	}
	enc := json.NewEncoder(os.Stdout)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			log.Fatal(err)
		}
	}
}

func ExampleScheduleAt() {
	now := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	s, err := tasks.ScheduleAt(time.Date(2026, 12, 2, 3, 0, 0, 200e6, time.UTC), now)
	fmt.Println(s.Time(), err)
	_, err = tasks.ScheduleAt(now.Add(-time.Minute), now)
	fmt.Println(err)
	_, err = tasks.ScheduleIn(31*24*time.Hour, now)
	fmt.Println(err)
	// Output:
	// 2026-12-02 03:00:01 +0000 UTC <nil>
	// invalid schedule: 2026-12-01T17:59:00Z is in the past
	// invalid schedule: 744h0m0s is more than 30 days ahead
}
