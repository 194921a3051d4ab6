// This file holds the compact row store of a run and the window's claims on it: rows wait in small
// hashes until a worker claims the next few of them, by a cursor, to queue as asynq tasks.

package jobs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protowire"
)

// rowsPerBucket is the number of lines one rows hash covers. Redis keeps a hash of up to 128
// fields whose values are at most 64 bytes as a listpack, a few bytes per field, against
// about 70 for a field of a big hash; 64 leaves room for a run's duplicates in the seen buckets.
const rowsPerBucket = 64

// runPrefix is the prefix of the keys of one run, hash tag included.
func runPrefix(id string) string { return keyPrefix + "{" + id + "}:" }

func rowsBucketKey(id string, line int) string {
	return runPrefix(id) + "rows:" + strconv.Itoa(line/rowsPerBucket)
}

// bucketField is a line's field in its buckets of rows and of outcomes: its place in the bucket.
// Redis keeps such a small number in a listpack in 2 bytes, where a line of six digits takes 5.
func bucketField(line int) string { return strconv.Itoa(line % rowsPerBucket) }

func claimsKey(id string) string { return runPrefix(id) + "claims" }

func windowKey(p Provider) string { return keyPrefix + "window:" + string(p) }

// seenBuckets is the number of dedupe hashes of a run of about n rows: rowsPerBucket rows each.
func seenBuckets(n int) int { return max(1, (n+rowsPerBucket-1)/rowsPerBucket) }

// AddRowBatches is AddRows for several batches in one round trip: Redis runs them in order, so
// the first line of a duplicate is still the first one read. sizeHint is the number of rows the
// run will have (the check pass counted them); it sizes the dedupe buckets of a new run. done
// gets each batch's actions, in order.
func (s *Store) AddRowBatches(ctx context.Context, runID string, sizeHint int, batches [][]IngestRow, done func(batch int, acts []AddAction)) error {
	i := 0
	return s.addRows(ctx, runID, sizeHint, batches, func(a []AddAction) { done(i, a); i++ })
}

// eachBucketGroup calls fn with the lines 2..maxLine of a run, 16 buckets at a time, with their
// inputs and outcomes (nil where a line has none): one round trip per call.
func (s *Store) eachBucketGroup(ctx context.Context, runID string, maxLine int, fn func(lines []string, ins, outs []any) error) error {
	const group = 16 * rowsPerBucket
	for start := 2; start <= maxLine; {
		end := min(maxLine, (start/group+1)*group-1)
		var ins []*redis.SliceCmd
		var outs []*redis.SliceCmd
		lines := make([]string, 0, end-start+1)
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for b := start; b <= end; {
				last := min(end, (b/rowsPerBucket+1)*rowsPerBucket-1)
				fields := make([]string, 0, last-b+1)
				for l := b; l <= last; l++ {
					lines, fields = append(lines, strconv.Itoa(l)), append(fields, bucketField(l))
				}
				ins = append(ins, p.HMGet(ctx, rowsBucketKey(runID, b), fields...))
				outs = append(outs, p.HMGet(ctx, outBucketKey(runID, b), fields...))
				b = last + 1
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read rows of run %s: %w", runID, err)
		}
		in, out := make([]any, 0, len(lines)), make([]any, 0, len(lines))
		for i, c := range ins {
			in, out = append(in, c.Val()...), append(out, outs[i].Val()...)
		}
		if err := s.readOverflow(ctx, runID, lines, out); err != nil {
			return fmt.Errorf("read rows of run %s: %w", runID, err)
		}
		if err := fn(lines, in, out); err != nil {
			return err
		}
		start = end + 1
	}
	return nil
}

// OpenWindow lists a run among those whose rows the workers of its provider claim, oldest run
// first. Ingest calls it before it adds the rows, so the workers start on a big file while it is
// still being read. It is idempotent.
func (s *Store) OpenWindow(ctx context.Context, p Provider, runID string, created time.Time) error {
	if err := s.rdb.ZAddNX(ctx, windowKey(p), redis.Z{Score: float64(created.UnixMilli()), Member: runID}).Err(); err != nil {
		return fmt.Errorf("open the window of run %s: %w", runID, err)
	}
	return nil
}

// WindowRuns returns up to n runs of a provider with rows still to claim, oldest first.
func (s *Store) WindowRuns(ctx context.Context, p Provider, n int) ([]string, error) {
	ids, err := s.rdb.ZRange(ctx, windowKey(p), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list the %s window's runs: %w", p, err)
	}
	return ids, nil
}

// CloseWindow drops a run from its provider's window: every row of it was claimed and queued.
func (s *Store) CloseWindow(ctx context.Context, p Provider, runID string) error {
	if err := s.rdb.ZRem(ctx, windowKey(p), runID).Err(); err != nil {
		return fmt.Errorf("close the window of run %s: %w", runID, err)
	}
	return nil
}

// HoldWindow lets the window claim a run's rows up to line stop only (a canary: run --limit);
// stop -1 lifts the hold.
func (s *Store) HoldWindow(ctx context.Context, runID string, stop int) error {
	var err error
	if stop < 0 {
		err = s.rdb.HDel(ctx, runKey(runID), "wstop").Err()
	} else {
		err = s.rdb.HSet(ctx, runKey(runID), "wstop", stop).Err()
	}
	if err != nil {
		return fmt.Errorf("hold the window of run %s: %w", runID, err)
	}
	return nil
}

// Claim is a range of a run's rows that one worker took into the window: it queues their tasks,
// then acknowledges the claim (AckClaim). A claim left unacknowledged (its worker died between
// the claim and the queueing) is handed out again by ReclaimStale.
type Claim struct {
	RunID string
	// ID names the claim for AckClaim; "" when the claim took no row.
	ID string
	// Rows are the claimed rows without an outcome, in line order.
	Rows []Row
	// At is when the rows entered the window: their age counts from it.
	At time.Time
	// Exhausted is true when the run has no row left to claim and no claim outstanding, and its
	// ingestion is complete: CloseWindow may drop it.
	Exhausted bool
	// More is true when the claim stopped before the last line recorded so far: ask again.
	More bool
}

// claimScript advances a run's window cursor over the next rows without an outcome.
//
//	KEYS[1] -> reactivator:{R}:run
//	KEYS[2] -> reactivator:{R}:claims
//	ARGV[1] -> the most rows to claim
//	ARGV[2] -> now (unix ms)
//	ARGV[3] -> the run's key prefix, reactivator:{R}: (the buckets of rows, reactivator:{R}:rows:<n>,
//	           and of outcomes, reactivator:{R}:out:<n>, share the run's hash tag)
//	ARGV[4] -> the most lines to look at (rows with an outcome are passed over)
//
// It returns {exhausted (0/1), more (0/1: lines are left to look at), claim id or "", line,
// input, line, input, ...}, or {-1} for a run that does not exist.
var claimScript = redis.NewScript(`
local run, claims = KEYS[1], KEYS[2]
local k, now, prefix, budget = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local f = redis.call('HMGET', run, 'wcur', 'max_line', 'total', 'provider', 'wstop')
if not f[4] then return {-1} end
local cur = tonumber(f[1] or '2')
local maxline = tonumber(f[2] or '0')
local total = tonumber(f[3] or '-1')
if f[5] then
  -- a canary's hold: the rows after its last line wait, and the run is not exhausted
  maxline = math.min(maxline, tonumber(f[5]))
  total = -1
end
local from = cur
local res = {0, 0, ''}
local n = 0
while n < k and cur <= maxline and budget > 0 do
  local b = math.floor(cur / 64)
  local last = math.min(b * 64 + 63, maxline, cur + budget - 1)
  local lines, fields = {}, {}
  for l = cur, last do
    lines[#lines + 1] = l
    fields[#fields + 1] = l % 64
  end
  local ins = redis.call('HMGET', prefix .. 'rows:' .. b, unpack(fields))
  local outs = redis.call('HMGET', prefix .. 'out:' .. b, unpack(fields))
  for i = 1, #lines do
    if n >= k then break end
    cur = lines[i] + 1
    budget = budget - 1
    if ins[i] and not outs[i] then
      n = n + 1
      res[#res + 1] = lines[i]
      res[#res + 1] = ins[i]
    end
  end
end
if cur > from then redis.call('HSET', run, 'wcur', cur) end
if n > 0 then
  res[3] = from .. '-' .. cur
  redis.call('HSET', claims, res[3], now)
end
if cur <= maxline then res[2] = 1 end
if total >= 0 and cur > maxline and redis.call('HLEN', claims) == 0 then res[1] = 1 end
return res
`)

// ClaimRows claims up to n of a run's next rows without an outcome for the window, atomically:
// two workers never claim the same row. It looks at most at 16n+64 lines (passing over rows
// already done), so one call holds Redis briefly; More says whether lines are left.
func (s *Store) ClaimRows(ctx context.Context, p Provider, runID string, n int) (Claim, error) {
	now := s.now()
	v, err := claimScript.Run(ctx, s.rdb, []string{runKey(runID), claimsKey(runID)},
		n, now.UnixMilli(), runPrefix(runID), 16*n+64).Slice()
	if err != nil {
		return Claim{}, fmt.Errorf("claim rows of run %s: %w", runID, err)
	}
	return parseClaim(p, runID, now, v)
}

// parseClaim reads the answer of claimScript or reclaimScript.
func parseClaim(p Provider, runID string, at time.Time, v []any) (Claim, error) {
	if len(v) == 1 {
		return Claim{}, fmt.Errorf("claim rows of run %s: %w", runID, ErrRunNotFound)
	}
	if len(v) < 3 {
		return Claim{}, fmt.Errorf("claim rows of run %s: unexpected answer %v", runID, v)
	}
	c := Claim{RunID: runID, At: at}
	ex, _ := v[0].(int64)
	more, _ := v[1].(int64)
	c.Exhausted, c.More = ex == 1, more == 1
	c.ID, _ = v[2].(string)
	for i := 3; i+1 < len(v); i += 2 {
		line, _ := v[i].(int64)
		in, _ := v[i+1].(string)
		cells, lookup, value, err := decodeInput(in)
		if err != nil || len(cells) < 3 {
			return c, fmt.Errorf("claim rows of run %s: line %d: stored input %q unreadable", runID, line, in)
		}
		c.Rows = append(c.Rows, Row{Line: int(line), Provider: p, OrgID: cells[0], MemberID: cells[1], UserID: cells[2],
			Lookup: lookup, LookupValue: value})
	}
	return c, nil
}

// AckClaim records that the tasks of a claim are queued.
func (s *Store) AckClaim(ctx context.Context, runID, claimID string) error {
	if claimID == "" {
		return nil
	}
	if err := s.rdb.HDel(ctx, claimsKey(runID), claimID).Err(); err != nil {
		return fmt.Errorf("acknowledge claim %s of run %s: %w", claimID, runID, err)
	}
	return nil
}

// reclaimScript hands out again one claim older than a lease: its worker died (or lost Redis)
// between claiming the rows and queueing them.
//
//	KEYS[1] -> reactivator:{R}:claims
//	ARGV[1] -> the run's key prefix, reactivator:{R}: (of the buckets of rows and outcomes)
//	ARGV[2] -> now (unix ms)
//	ARGV[3] -> the lease (ms): claims made before now - lease are stale
//
// It renews the claim's lease, so two workers do not both repair it, and returns {0, claim id,
// line, input, ...} for the claim's rows still without an outcome, or {0, 0, ”} when no claim is
// stale.
var reclaimScript = redis.NewScript(`
local claims = KEYS[1]
local prefix, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local all = redis.call('HGETALL', claims)
for j = 1, #all, 2 do
  local id, at = all[j], tonumber(all[j + 1])
  if at <= now - lease then
    redis.call('HSET', claims, id, now)
    local dash = string.find(id, '-', 1, true)
    local from, to = tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
    local res = {0, 0, id}
    for b = math.floor(from / 64), math.floor((to - 1) / 64) do
      local lines, fields = {}, {}
      for l = math.max(from, b * 64), math.min(to - 1, b * 64 + 63) do
        lines[#lines + 1] = l
        fields[#fields + 1] = l % 64
      end
      local ins = redis.call('HMGET', prefix .. 'rows:' .. b, unpack(fields))
      local outs = redis.call('HMGET', prefix .. 'out:' .. b, unpack(fields))
      for i = 1, #lines do
        if ins[i] and not outs[i] then
          res[#res + 1] = lines[i]
          res[#res + 1] = ins[i]
        end
      end
    end
    return res
  end
end
return {0, 0, ''}
`)

// ReclaimStale returns one claim of a run that was not acknowledged within lease, with its rows
// still without an outcome, and renews its lease; Claim.ID is "" when there is none. The caller
// queues the rows (a task id asynq already holds is a row its first worker did queue) and
// acknowledges the claim.
func (s *Store) ReclaimStale(ctx context.Context, p Provider, runID string, lease time.Duration) (Claim, error) {
	now := s.now()
	v, err := reclaimScript.Run(ctx, s.rdb, []string{claimsKey(runID)},
		runPrefix(runID), now.UnixMilli(), lease.Milliseconds()).Slice()
	if err != nil {
		return Claim{}, fmt.Errorf("reclaim rows of run %s: %w", runID, err)
	}
	return parseClaim(p, runID, now, v)
}

// queueTasksScript queues asynq tasks as asynq v0.26's Client.Enqueue does (its enqueueCmd), many
// in one call: a task whose id asynq does not hold gets its hash and its id pushed on the queue's
// pending list; a known id is left as it is.
//
//	KEYS[1] -> asynq:{<queue>}:pending
//	ARGV[1] -> asynq:{<queue>}:t: , the prefix of the tasks' hashes (they share the queue's hash tag)
//	ARGV[2] -> now (unix ns), the tasks' pending_since
//	ARGV[3..] -> per task: its id, its message as asynq encodes it
//
// It returns the number of tasks queued.
var queueTasksScript = redis.NewScript(`
local prefix, now = ARGV[1], ARGV[2]
local n = 0
for i = 3, #ARGV, 2 do
  local key = prefix .. ARGV[i]
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'msg', ARGV[i + 1], 'state', 'pending', 'pending_since', now)
    redis.call('LPUSH', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
`)

// asynqAllQueues is asynq's set of the queues it knows (asynq:queues), where its Inspector lists them.
const asynqAllQueues = "asynq:queues"

// QueueClaim queues the reactivate tasks of a claim's rows (NewReactivateTask's, entering the
// window at at) in one round trip, where asynq's Client takes one per task: it writes asynq's own
// layout of a pending task, as asynq v0.26 does (TestQueueClaimWritesWhatAsynqWrites guards
// that). It returns how many tasks it queued and how many ids asynq already held (rows a claim's
// first worker did queue). A row whose ids are not valid is left out and given to bad: ingest
// refused such rows.
func (s *Store) QueueClaim(ctx context.Context, c Claim, at time.Time, bad func(Row, error)) (queued, known int, err error) {
	if len(c.Rows) == 0 {
		return 0, 0, nil
	}
	queue := c.Rows[0].Provider.Queue()
	args := make([]any, 0, 2+2*len(c.Rows))
	args = append(args, "asynq:{"+queue+"}:t:", s.now().UnixNano())
	for _, r := range c.Rows {
		t, err := NewReactivateTask(c.RunID, r, at)
		if err != nil {
			if bad != nil {
				bad(r, err)
			}
			continue
		}
		args = append(args, TaskID(c.RunID, r), asynqMessage(t.Type(), t.Payload(), TaskID(c.RunID, r), queue))
	}
	n := (len(args) - 2) / 2
	if n == 0 {
		return 0, 0, nil
	}
	keys := []string{"asynq:{" + queue + "}:pending"}
	var res *redis.Cmd
	run := func() error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, asynqAllQueues, queue)
			res = queueTasksScript.EvalSha(ctx, p, keys, args...)
			return nil
		})
		return err
	}
	err = run()
	if err != nil && redis.HasErrorPrefix(res.Err(), "NOSCRIPT") {
		// A fresh or restarted server: load the script and send again (the script ran nowhere).
		if err = queueTasksScript.Load(ctx, s.rdb).Err(); err == nil {
			err = run()
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("queue the tasks of claim %s of run %s: %w", c.ID, c.RunID, err)
	}
	q, err := res.Int()
	if err != nil {
		return 0, 0, fmt.Errorf("queue the tasks of claim %s of run %s: %w", c.ID, c.RunID, err)
	}
	return q, n - q, nil
}

// asynqMessage is a reactivate task's message as asynq v0.26 encodes it (protocol buffers, its
// TaskMessage: type 1, payload 2, id 3, queue 4, retry 5, timeout 8, fields in that order and
// zero ones left out, as proto.Marshal writes them): TaskMaxRetry retries, a TaskTimeout
// timeout, no deadline, no retention.
func asynqMessage(typ string, payload []byte, id, queue string) []byte {
	b := make([]byte, 0, len(typ)+len(payload)+len(id)+len(queue)+24)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, typ)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, payload)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendString(b, id)
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendString(b, queue)
	b = protowire.AppendTag(b, 5, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(TaskMaxRetry))
	b = protowire.AppendTag(b, 8, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(TaskTimeout/time.Second))
	return b
}

// QueueBacklog returns how many tasks of an asynq queue are not done: pending, active, scheduled
// and waiting to be retried. It reads asynq's own keys (asynq:{<queue>}:pending, :active,
// :scheduled, :retry, as asynq v0.26 lays them out; TestQueueBacklogFollowsAsynq guards that) in
// one round trip, where asynq's Inspector would also sample the queue's memory use.
func (s *Store) QueueBacklog(ctx context.Context, queue string) (int, error) {
	base := "asynq:{" + queue + "}:"
	var cmds [4]*redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmds[0] = p.LLen(ctx, base+"pending")
		cmds[1] = p.LLen(ctx, base+"active")
		cmds[2] = p.ZCard(ctx, base+"scheduled")
		cmds[3] = p.ZCard(ctx, base+"retry")
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the backlog of queue %s: %w", queue, err)
	}
	n := 0
	for _, c := range cmds {
		n += int(c.Val())
	}
	return n, nil
}

// eachSeenKey calls fn with the row keys (Row.Key, hex) of a run's dedupe buckets, which keep
// them as bytes: the keys of the rows first seen, so of every task the run can have. 64 buckets
// per round trip.
func (s *Store) eachSeenKey(ctx context.Context, runID string, fn func(keys []string) error) error {
	sb, err := s.rdb.HGet(ctx, runKey(runID), "sb").Int()
	if errors.Is(err, redis.Nil) {
		return nil // no row was ever added
	}
	if err != nil {
		return fmt.Errorf("read the dedupe buckets of run %s: %w", runID, err)
	}
	const group = 64
	for start := 0; start < sb; start += group {
		cmds := make([]*redis.StringSliceCmd, 0, group)
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for b := start; b < min(sb, start+group); b++ {
				cmds = append(cmds, p.HKeys(ctx, runPrefix(runID)+"seen:"+strconv.Itoa(b)))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the dedupe buckets of run %s: %w", runID, err)
		}
		var keys []string
		for _, c := range cmds {
			for _, k := range c.Val() {
				keys = append(keys, hex.EncodeToString([]byte(k)))
			}
		}
		if err := fn(keys); err != nil {
			return err
		}
	}
	return nil
}

// readOverflow replaces the overflow marks among a group's outcomes (out, one per line) with the
// records the run's overflow hash keeps for those lines: one round trip when there are any.
func (s *Store) readOverflow(ctx context.Context, runID string, lines []string, out []any) error {
	var at []int
	var fields []string
	for i, v := range out {
		if v == overflowMark {
			at, fields = append(at, i), append(fields, lines[i])
		}
	}
	if len(at) == 0 {
		return nil
	}
	vs, err := s.rdb.HMGet(ctx, outOverflowKey(runID), fields...).Result()
	if err != nil {
		return err
	}
	for j, i := range at {
		out[i] = vs[j]
	}
	return nil
}
