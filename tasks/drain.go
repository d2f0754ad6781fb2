package tasks

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// TypeDrainLoadBalancer is the asynq task type of a drain: take one load
// balancer out of every scaling group of a region that holds it.
const TypeDrainLoadBalancer = "ess:drain_load_balancer"

// drainTaskIDPrefix namespaces drains among other task IDs in the same queue.
const drainTaskIDPrefix = "drain:"

// DrainPayload is the payload of a drain. The worker lists the region's
// scaling groups and queues one detach job (TypeDetachLoadBalancers) per
// group whose load balancers include LoadBalancerId.
type DrainPayload struct {
	// RegionId is the region whose groups are drained. Optional: empty means
	// the worker's default region, which the worker writes into every detach
	// job it queues.
	RegionId string `json:"RegionId,omitempty"`
	// LoadBalancerId is the load balancer to take out. Required.
	LoadBalancerId string `json:"LoadBalancerId"`
	// ForceDetach and Async are copied into every detach job.
	ForceDetach bool `json:"ForceDetach"`
	Async       bool `json:"Async"`
	// ClientToken names the drain: its task ID is DrainTaskID(ClientToken) and
	// the detach job of group g has the token DrainGroupToken(ClientToken, g).
	// Printable ASCII, at most MaxClientTokenLen characters. Optional in a
	// payload (the worker then uses the asynq task ID); NewDrainTask always sets
	// one.
	ClientToken string `json:"ClientToken,omitempty"`
}

// DecodeDrainPayload decodes a drain payload as strictly as
// DecodeDetachPayload decodes a detach payload, and validates it. Every error
// wraps ErrInvalidPayload; errors about one field are a *FieldError.
func DecodeDrainPayload(b []byte) (DrainPayload, error) {
	var p DrainPayload
	if err := decodeObject(b, p.setField); err != nil {
		return DrainPayload{}, err
	}
	if err := p.Validate(); err != nil {
		return DrainPayload{}, err
	}
	return p, nil
}

// setField decodes one value into the field whose JSON name is key.
func (p *DrainPayload) setField(key string, raw json.RawMessage) error {
	switch key {
	case "RegionId":
		return decodeString(key, raw, &p.RegionId)
	case "LoadBalancerId":
		return decodeString(key, raw, &p.LoadBalancerId)
	case "ClientToken":
		return decodeString(key, raw, &p.ClientToken)
	case "ForceDetach":
		return decodeBool(key, raw, &p.ForceDetach)
	case "Async":
		return decodeBool(key, raw, &p.Async)
	default:
		return &FieldError{Field: key, Reason: "unknown field"}
	}
}

// Validate checks p against the drain contract and returns the first problem
// as a *FieldError, in field order: RegionId and ClientToken as in a detach
// payload; LoadBalancerId required, printable ASCII without spaces.
func (p DrainPayload) Validate() error {
	if err := checkRegion(p.RegionId); err != nil {
		return err
	}
	if p.LoadBalancerId == "" {
		return &FieldError{Field: "LoadBalancerId", Reason: "required"}
	}
	if reason := checkID(p.LoadBalancerId, maxIDLen); reason != "" {
		return &FieldError{Field: "LoadBalancerId", Reason: reason}
	}
	return checkToken(p.ClientToken)
}

// DrainTaskID returns the asynq task ID of the drain with this ClientToken:
// "drain:" followed by the token, so draining again with the same token is a
// duplicate, as TaskID makes it for a detach job.
func DrainTaskID(clientToken string) string {
	return drainTaskIDPrefix + clientToken
}

// DrainGroupToken returns the ClientToken of the detach job a drain queues
// for one scaling group: the name-based (SHA-1, version 5) UUID of
// drainToken + ":" + groupID in SplitNamespace. Running the drain again (a
// retry, a crash, the same request twice) gives the same tokens, so its jobs
// come back as duplicates, never as second detaches.
func DrainGroupToken(drainToken, groupID string) string {
	return uuid.NewSHA1(SplitNamespace, []byte(drainToken+":"+groupID)).String()
}

// NewDrainTask returns the asynq task of one drain, with the defaults
// NewDetachLoadBalancersTask puts on a detach job (task ID
// DrainTaskID(token), DefaultMaxRetry, DefaultRetention, DefaultQueue, the
// HeaderEnqueuedAt header); opts come after them, so they win. p must pass
// Validate; an empty ClientToken is replaced by a new random UUID.
func NewDrainTask(p DrainPayload, opts ...asynq.Option) (*asynq.Task, error) {
	if p.ClientToken == "" {
		p.ClientToken = uuid.NewString()
	}
	payload, err := encodeDrainPayload(p)
	if err != nil {
		return nil, err
	}
	return newTask(TypeDrainLoadBalancer, payload, DrainTaskID(p.ClientToken), opts), nil
}

// encodeDrainPayload validates p and returns the payload of its task.
func encodeDrainPayload(p DrainPayload) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("tasks: encode drain payload: %w", err)
	}
	return payload, nil
}
