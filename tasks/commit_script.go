package tasks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// commitScript checks and queues a batch of submissions in one round trip.
// For each submission, in order, it looks up the task ID of every job and
// every shadow ID in every queue of asynq:queues. When none exists, it writes
// the submission's jobs as asynq v0.26's enqueue and schedule scripts do (the
// task hash with msg, state and pending_since, pushed on the pending list; or
// the task hash with state "scheduled" and the scheduled set entry) and adds
// the queue to asynq:queues; otherwise it writes nothing of that submission
// and answers where each ID is. A later submission sees what an earlier one
// wrote.
//
// The look-up is one EXISTS over the keys of every ID of the batch, made
// before any write: when none exists, a submission none of whose IDs the
// script wrote itself is new. Otherwise each ID of a submission is looked up
// queue by queue. The queues looked in are those of asynq:queues and those of
// the batch, so that a key left in a queue asynq does not list is found, not
// written over. The look-up reads task hashes only, which are written as
// soon as a submission passes; the pushes on the pending lists and the
// scheduled sets are gathered per queue and made at the end, in the order of
// the jobs, as one LPUSH or ZADD per queue and chunk of keys.
//
// Redis does not undo a script's writes when a command of it fails, so no
// write may fail: before the first, the script reads the type of each
// pending list and scheduled set the batch would push on, and a submission
// with new jobs for a key that holds another type answers an error and
// writes nothing; a key that is not a hash where a task ID is looked up reads
// as a task with no message. The other submissions of the batch go on.
//
// KEYS[1] -> asynq:queues
// ARGV[1] -> pending_since of pending jobs (Unix nanoseconds)
// ARGV[2] -> number of submissions
// then, per submission:
//
//	queue, number of jobs J, number of shadow IDs S,
//	J times: task ID, encoded TaskMessage, score (0: pending; else the
//	         scheduled time, Unix seconds),
//	S times: task ID that must not exist
//
// Output: one array per submission: {1} when its jobs were written;
// {-1, reason} when a key it would push on holds another type; else
// {0, q1, msg1, ..., qJ, msgJ, s1, ..., sS}: the queue holding each job's
// task ID ("" for none) with the stored msg when that queue is the
// submission's own ("" otherwise), then the queue holding each shadow ID.
var commitScript = redis.NewScript(`
local prefixes = {}
local function taskKey(q, id)
  local p = prefixes[q]
  if p == nil then
    p = 'asynq:{' .. q .. '}:t:'
    prefixes[q] = p
  end
  return p .. id
end
local function pendingKey(q) return 'asynq:{' .. q .. '}:pending' end
local function scheduledKey(q) return 'asynq:{' .. q .. '}:scheduled' end
local chunk = 1000
local queues = redis.call('SMEMBERS', KEYS[1])
local known = {}
for _, q in ipairs(queues) do known[q] = true end
local n = tonumber(ARGV[2])
-- Where each submission's arguments start; the batch's queues asynq does not
-- list yet join the queues looked in.
local starts = {}
local a = 3
for u = 1, n do
  starts[u] = a
  local queue = ARGV[a]
  if not known[queue] then
    known[queue] = false
    queues[#queues + 1] = queue
  end
  a = a + 3 + 3 * tonumber(ARGV[a + 1]) + tonumber(ARGV[a + 2])
end
local function find(id)
  for _, q in ipairs(queues) do
    if redis.call('EXISTS', taskKey(q, id)) == 1 then return q end
  end
  return ''
end
-- The type each list or set the batch pushes on must hold, by key: a
-- submission whose key holds another has its reason in refused.
local refused, typeOf = {}, {}
local function wrongType(key, want)
  if typeOf[key] == nil then typeOf[key] = redis.call('TYPE', key)['ok'] end
  local t = typeOf[key]
  if t ~= 'none' and t ~= want then return key .. ' holds a ' .. t .. ', not a ' .. want end
end
-- The keys of every ID of the batch in every queue looked in.
local all = {}
for u = 1, n do
  a = starts[u]
  local queue, njobs, nshadows = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local shadows = a + 3 + 3 * njobs
  for i = a + 3, shadows - 1, 3 do
    for _, q in ipairs(queues) do all[#all + 1] = taskKey(q, ARGV[i]) end
    if ARGV[i + 2] == '0' then
      refused[u] = refused[u] or wrongType(pendingKey(queue), 'list')
    else
      refused[u] = refused[u] or wrongType(scheduledKey(queue), 'zset')
    end
  end
  for i = shadows, shadows + nshadows - 1 do
    for _, q in ipairs(queues) do all[#all + 1] = taskKey(q, ARGV[i]) end
  end
end
local anyAtStart = false
for i = 1, #all, chunk do
  if redis.call('EXISTS', unpack(all, i, math.min(i + chunk - 1, #all))) > 0 then
    anyAtStart = true
    break
  end
end
local written, pushes, adds, order = {}, {}, {}, {}
local out = {}
for u = 1, n do
  a = starts[u]
  local queue, njobs, nshadows = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local jobs = a + 3
  local shadows = jobs + 3 * njobs
  local check = anyAtStart
  if not check then
    for i = 0, njobs - 1 do
      if written[ARGV[jobs + 3 * i]] then check = true end
    end
    for i = 0, nshadows - 1 do
      if written[ARGV[shadows + i]] then check = true end
    end
  end
  local found, taken = nil, false
  if check then
    found = {0}
    for i = 0, njobs - 1 do
      local id = ARGV[jobs + 3 * i]
      local q, msg = find(id), ''
      if q ~= '' then taken = true end
      if q == queue then
        msg = redis.pcall('HGET', taskKey(q, id), 'msg')
        if type(msg) ~= 'string' then msg = '' end
      end
      found[#found + 1] = q
      found[#found + 1] = msg
    end
    for i = 0, nshadows - 1 do
      local q = find(ARGV[shadows + i])
      if q ~= '' then taken = true end
      found[#found + 1] = q
    end
  end
  if taken then
    out[u] = found
  elseif refused[u] then
    out[u] = {-1, refused[u]}
  else
    if not known[queue] then
      redis.call('SADD', KEYS[1], queue)
      known[queue] = true
    end
    if pushes[queue] == nil then
      pushes[queue], adds[queue] = {}, {}
      order[#order + 1] = queue
    end
    local p, z = pushes[queue], adds[queue]
    for i = 0, njobs - 1 do
      local id, msg, score = ARGV[jobs + 3 * i], ARGV[jobs + 3 * i + 1], ARGV[jobs + 3 * i + 2]
      if score == '0' then
        redis.call('HSET', taskKey(queue, id), 'msg', msg, 'state', 'pending', 'pending_since', ARGV[1])
        p[#p + 1] = id
      else
        redis.call('HSET', taskKey(queue, id), 'msg', msg, 'state', 'scheduled')
        z[#z + 1] = score
        z[#z + 1] = id
      end
      written[id] = true
    end
    out[u] = {1}
  end
end
for _, q in ipairs(order) do
  local p, z = pushes[q], adds[q]
  for i = 1, #p, chunk do
    redis.call('LPUSH', pendingKey(q), unpack(p, i, math.min(i + chunk - 1, #p)))
  end
  for i = 1, #z, 2 * chunk do
    redis.call('ZADD', scheduledKey(q), unpack(z, i, math.min(i + 2 * chunk - 1, #z)))
  end
end
return out
`)

// runCommitScript sends batch through commitScript and fills in each
// submission's answer (written, refused, or what it found). The error is the
// round trip's: then no submission has an answer.
func runCommitScript(ctx context.Context, sc redis.Scripter, batch []*submission, now time.Time) error {
	n := 2
	for _, s := range batch {
		n += 3 + 3*len(s.jobs) + len(s.shadows)
	}
	argv := make([]any, 0, n)
	argv = append(argv, strconv.FormatInt(now.UnixNano(), 10), len(batch))
	for _, s := range batch {
		argv = append(argv, s.queue, len(s.jobs), len(s.shadows))
		for _, j := range s.jobs {
			j.scheduled = j.at.After(now)
			score := "0"
			if j.scheduled {
				score = strconv.FormatInt(j.at.Unix(), 10)
			}
			argv = append(argv, j.id, j.msg, score)
		}
		for _, id := range s.shadows {
			argv = append(argv, id)
		}
	}
	reply, err := commitScript.Run(ctx, sc, []string{allQueuesKey}, argv...).Slice()
	if err != nil {
		return fmt.Errorf("tasks: queue a batch of %d submissions: %w", len(batch), err)
	}
	if len(reply) != len(batch) {
		return fmt.Errorf("tasks: queue a batch of %d submissions: %d answers", len(batch), len(reply))
	}
	for i, s := range batch {
		if err := s.readAnswer(reply[i]); err != nil {
			return fmt.Errorf("tasks: queue a batch of %d submissions: answer %d: %w", len(batch), i+1, err)
		}
	}
	return nil
}

// readAnswer reads s's part of commitScript's output.
func (s *submission) readAnswer(v any) error {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return fmt.Errorf("unexpected %T", v)
	}
	switch answer, _ := a[0].(int64); {
	case answer == 1:
		s.written = true
		return nil
	case answer == -1 && len(a) == 2:
		reason, ok := a[1].(string)
		if !ok {
			return fmt.Errorf("unexpected %T", a[1])
		}
		s.refused = reason
		return nil
	}
	if len(a) != 1+2*len(s.jobs)+len(s.shadows) {
		return fmt.Errorf("%d values for %d jobs and %d shadow IDs", len(a), len(s.jobs), len(s.shadows))
	}
	str := func(v any) (string, error) {
		x, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("unexpected %T", v)
		}
		return x, nil
	}
	var err error
	for i, j := range s.jobs {
		if j.foundIn, err = str(a[1+2*i]); err != nil {
			return err
		}
		if j.stored, err = str(a[2+2*i]); err != nil {
			return err
		}
	}
	s.shadowsFound = make([]string, len(s.shadows))
	for i := range s.shadows {
		if s.shadowsFound[i], err = str(a[1+2*len(s.jobs)+i]); err != nil {
			return err
		}
	}
	return nil
}
