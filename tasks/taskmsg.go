package tasks

import (
	"errors"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// asynqDefaultTimeout is the timeout asynq's Client gives a task with neither
// a timeout nor a deadline, as every task of this package is.
const asynqDefaultTimeout = 30 * time.Minute

// Field numbers of asynq's TaskMessage (asynq v0.26,
// internal/proto/asynq.proto) that the producer writes or reads. The other
// fields stay at their zero value, which protobuf leaves out.
const (
	msgFieldType      protowire.Number = 1
	msgFieldPayload   protowire.Number = 2
	msgFieldID        protowire.Number = 3
	msgFieldQueue     protowire.Number = 4
	msgFieldRetry     protowire.Number = 5
	msgFieldTimeout   protowire.Number = 8
	msgFieldRetention protowire.Number = 12
	msgFieldHeaders   protowire.Number = 15
)

// taskMessage is the asynq task the producer writes itself: what asynq's
// Client.Enqueue stores for newTask's task in queue, with the same defaults
// (DefaultMaxRetry, DefaultRetention, asynq's default timeout, no deadline)
// and the header HeaderEnqueuedAt.
type taskMessage struct {
	typ     string
	payload []byte
	id      string
	queue   string
	readyAt time.Time // HeaderEnqueuedAt: when the task may first run
}

// encode returns m as asynq's protobuf TaskMessage, the "msg" field of its
// task hash.
func (m taskMessage) encode() []byte {
	b := make([]byte, 0, 64+len(m.typ)+len(m.payload)+2*len(m.id)+len(m.queue))
	b = appendString(b, msgFieldType, m.typ)
	b = protowire.AppendTag(b, msgFieldPayload, protowire.BytesType)
	b = protowire.AppendBytes(b, m.payload)
	b = appendString(b, msgFieldID, m.id)
	b = appendString(b, msgFieldQueue, m.queue)
	b = appendVarint(b, msgFieldRetry, DefaultMaxRetry)
	b = appendVarint(b, msgFieldTimeout, int64(asynqDefaultTimeout/time.Second))
	b = appendVarint(b, msgFieldRetention, int64(DefaultRetention/time.Second))
	var buf [64]byte // the header entry fits: its key and a Unix time in nanoseconds
	entry := appendString(buf[:0], 1, HeaderEnqueuedAt)
	var num [20]byte
	entry = protowire.AppendTag(entry, 2, protowire.BytesType)
	entry = protowire.AppendBytes(entry, strconv.AppendInt(num[:0], m.readyAt.UnixNano(), 10))
	b = protowire.AppendTag(b, msgFieldHeaders, protowire.BytesType)
	return protowire.AppendBytes(b, entry)
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, n protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// errBadTaskMessage is returned for a stored task whose message is not
// protobuf.
var errBadTaskMessage = errors.New("tasks: malformed asynq task message")

// decodeTypeAndPayload reads the type and the payload of an asynq
// TaskMessage, skipping its other fields.
func decodeTypeAndPayload(b []byte) (typ string, payload []byte, err error) {
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", nil, errBadTaskMessage
		}
		b = b[n:]
		if wt == protowire.BytesType && (num == msgFieldType || num == msgFieldPayload) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", nil, errBadTaskMessage
			}
			if num == msgFieldType {
				typ = string(v)
			} else {
				payload = v
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, wt, b)
		if n < 0 {
			return "", nil, errBadTaskMessage
		}
		b = b[n:]
	}
	return typ, payload, nil
}
