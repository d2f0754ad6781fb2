package tasks

import (
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// SplitNamespace is the UUID namespace of every ClientToken essworker
// derives from another: the chunk tokens of SplitDetach, the token of a
// tokenless job's task ID, and the call of a job's still-attached load
// balancers. It is part of the contract: changing it would give a re-split
// request new tokens, so a job already queued would be queued again.
var SplitNamespace = uuid.MustParse("8b0d7f5e-3c52-4f0e-9a51-6d2f1e7c4a90")

// TokenOfTaskID is the ClientToken of a job whose producer set none: its
// asynq task ID, stable across retries, or a name-based UUID of it when the ID
// is not a valid token (too long, not ASCII).
func TokenOfTaskID(taskID string) string {
	if checkID(taskID, MaxClientTokenLen) == "" {
		return taskID
	}
	return uuid.NewSHA1(SplitNamespace, []byte(taskID)).String()
}

// ChunkToken returns the ClientToken of chunk i (from 0) of a request whose
// ClientToken is token: the name-based (SHA-1, version 5) UUID of
// token + ":" + i in a fixed namespace. Producers in other languages that
// split requests themselves use the same derivation to stay compatible.
func ChunkToken(token string, i int) string {
	return uuid.NewSHA1(SplitNamespace, []byte(token+":"+strconv.Itoa(i))).String()
}

// SplitDetach cuts one request into jobs of at most MaxLoadBalancers load
// balancers each, in order.
//
// p is validated like Validate except that it may name any number of load
// balancers (all distinct). An empty ClientToken is first replaced by a new
// random UUID. A request that fits in one job keeps its ClientToken; otherwise
// chunk i gets ChunkToken(token, i), so splitting the same request again gives
// the same tokens, and so the same task IDs. The result shares no memory with p.
func SplitDetach(p DetachPayload) ([]DetachPayload, error) {
	if err := p.validate(false); err != nil {
		return nil, err
	}
	if p.ClientToken == "" {
		p.ClientToken = uuid.NewString()
	}
	var chunks []DetachPayload
	for ids := range slices.Chunk(p.LoadBalancerIds, MaxLoadBalancers) {
		c := p
		c.LoadBalancerIds = slices.Clone(ids)
		chunks = append(chunks, c)
	}
	if len(chunks) > 1 {
		for i := range chunks {
			chunks[i].ClientToken = ChunkToken(p.ClientToken, i)
		}
	}
	for i := range chunks {
		if err := chunks[i].Validate(); err != nil {
			return nil, err
		}
	}
	return chunks, nil
}
