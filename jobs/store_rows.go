// This file holds a row's life in the run store, from ingest to report: recording the input rows
// of an ingestion compactly (buckets of 64 lines, small enough for Redis's listpack encoding) with
// their dedupe, marking its end; the window's claims on the rows, by a cursor, and the queueing of
// their asynq tasks; an attempt's start and end and the row's one outcome (Begin, EndAttempt,
// Record); how an outcome is kept (a short text in its bucket, and luaRecord, the one Lua function
// that records it); and reading rows and outcomes back in line order for reports.

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protowire"
)

// IngestRow is one input record handed to AddRows.
type IngestRow struct {
	Row Row
	// Input is the row's cells for the report: organization_id, member_id, user_id, then extra columns.
	Input []string
	// Invalid is why the row cannot be queued; "" for a valid row.
	Invalid string
}

// AddAction says what AddRows decided for a row.
type AddAction int

// What AddRows decides for each row.
const (
	// AddQueue: the row is new: it waits in the run store for its turn in the window.
	AddQueue AddAction = iota
	// AddDone: the same line of the same run already has its outcome: nothing to do.
	AddDone
	// AddDuplicate: the row repeats an earlier line; recorded as duplicate.
	AddDuplicate
	// AddInvalid: the row is unusable; recorded as invalid.
	AddInvalid
	// AddAlreadyQueued: an earlier ingestion recorded the same line; it still waits for its outcome.
	AddAlreadyQueued
)

// addRowsScript records a batch of rows.
//
//	KEYS[1] -> reactivator:{R}:run (the outcomes' buckets reactivator:{R}:out:<n> are derived from it)
//	ARGV[1] -> now (unix ms), for the outcomes of invalid and duplicate rows
//	ARGV[2] -> the duplicate outcome record, with @FIRST@ for the first line
//	ARGV[3] -> the run's key prefix, reactivator:{R}: (the buckets share the run's hash tag)
//	ARGV[4] -> the number of seen buckets, used when the run has none yet
//	ARGV[5..] -> per row: line, row key (hex; "" when invalid), input, invalid record, kind (i or v)
//
// It returns an AddAction per row.
var addRowsScript = redis.NewScript(luaRecord + `
local run = KEYS[1]
local now, dup, prefix = ARGV[1], ARGV[2], ARGV[3]
local sb = tonumber(redis.call('HGET', run, 'sb') or '0')
if sb == 0 then
  sb = tonumber(ARGV[4])
  redis.call('HSET', run, 'sb', sb)
end
local res = {}
local maxline = tonumber(redis.call('HGET', run, 'max_line') or '0')
local i = 5
while i <= #ARGV do
  local line, key, input, rec, kind = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  i = i + 5
  local l = tonumber(line)
  if l > maxline then maxline = l end
  redis.call('HSET', prefix .. 'rows:' .. math.floor(l / 64), field(line), input)
  if kind == 'i' then
    record(run, line, 'invalid', rec, now, false)
    table.insert(res, 3)
  else
    local seen = prefix .. 'seen:' .. (tonumber(string.sub(key, 1, 8), 16) % sb)
    -- kept as its 10 bytes, not 20 hex digits
    local raw = string.gsub(key, '..', function(h) return string.char(tonumber(h, 16)) end)
    local first = redis.call('HGET', seen, raw)
    if not first then
      redis.call('HSET', seen, raw, line)
      table.insert(res, 0)
    elseif first == line then
      if redis.call('HEXISTS', outkey(run, line), field(line)) == 1 then table.insert(res, 1) else table.insert(res, 4) end
    else
      record(run, line, 'duplicate', (string.gsub(dup, '@FIRST@', first)), now, false)
      table.insert(res, 2)
    end
  end
end
redis.call('HSET', run, 'max_line', maxline)
return res
`)

// AddRows records a batch of input rows of a run in one round trip: each row's input, compactly
// (encodeInput), invalid rows as invalid, repeats as duplicate of their first line. The valid
// rows wait in the store until a worker claims them into its provider's window (ClaimRows). It
// returns what it did with each row; calling it again with the same rows (a resumed ingest)
// changes nothing. Rows are added in line order, batch after batch: the first line of a
// duplicate is the first one added.
func (s *Store) AddRows(ctx context.Context, runID string, rows []IngestRow) ([]AddAction, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	acts := make([]AddAction, 0, len(rows))
	err := s.addRows(ctx, runID, 0, [][]IngestRow{rows}, func(a []AddAction) { acts = append(acts, a...) })
	return acts, err
}

// addRows sends the batches of rows in one pipeline (Redis runs them in order) and hands each
// batch's actions to done. sizeHint is the run's expected number of rows (0 when unknown); it
// sizes the dedupe buckets of a new run.
func (s *Store) addRows(ctx context.Context, runID string, sizeHint int, batches [][]IngestRow, done func([]AddAction)) error {
	now := s.now().UnixMilli()
	dup := OutcomeRecord{Outcome: Duplicate, Message: "duplicate of line @FIRST@", FinishedAt: time.UnixMilli(now)}.encode()
	keys := []string{runKey(runID)}
	argvs := make([][]any, len(batches))
	for bi, rows := range batches {
		args := make([]any, 0, 4+5*len(rows))
		args = append(args, now, dup, runPrefix(runID), seenBuckets(sizeHint))
		for _, r := range rows {
			in := encodeInput(r)
			line := strconv.Itoa(r.Row.Line)
			if r.Invalid != "" {
				rec := OutcomeRecord{Outcome: Invalid, Message: r.Invalid, FinishedAt: time.UnixMilli(now)}
				args = append(args, line, "", in, rec.encode(), "i")
				continue
			}
			args = append(args, line, r.Row.Key(), in, "", "v")
		}
		argvs[bi] = args
	}
	var cmds []*redis.Cmd
	run := func() error {
		cmds = make([]*redis.Cmd, len(argvs))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, args := range argvs {
				cmds[i] = addRowsScript.EvalSha(ctx, p, keys, args...)
			}
			return nil
		})
		return err
	}
	err := run()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// A fresh or restarted server: load the script and send again (AddRows is idempotent).
		if err = addRowsScript.Load(ctx, s.rdb).Err(); err == nil {
			err = run()
		}
	}
	if err != nil {
		return fmt.Errorf("record rows of run %s: %w", runID, err)
	}
	for _, c := range cmds {
		res, err := c.Int64Slice()
		if err != nil {
			return fmt.Errorf("record rows of run %s: %w", runID, err)
		}
		acts := make([]AddAction, len(res))
		for i, v := range res {
			acts[i] = AddAction(v)
		}
		done(acts)
	}
	return nil
}

// storedInput is how a row named by a lookup keeps its input: the lookup beside the cells. Any
// other row keeps its cells as a bare JSON array, as rows always were.
type storedInput struct {
	Lookup Lookup   `json:"l"`
	Value  string   `json:"v"`
	Cells  []string `json:"c"`
}

// encodeInput is a row's input as the rows buckets keep it.
func encodeInput(r IngestRow) []byte {
	if r.Invalid == "" && r.Row.NeedsLookup() {
		b, _ := json.Marshal(storedInput{Lookup: r.Row.Lookup, Value: r.Row.LookupValue, Cells: r.Input})
		return b
	}
	b, _ := json.Marshal(r.Input)
	return b
}

// decodeInput reads what encodeInput wrote: the cells, and the lookup of a row named by one.
func decodeInput(s string) (cells []string, l Lookup, value string, err error) {
	if strings.HasPrefix(s, "{") {
		var si storedInput
		err = json.Unmarshal([]byte(s), &si)
		return si.Cells, si.Lookup, si.Value, err
	}
	err = json.Unmarshal([]byte(s), &cells)
	return cells, "", "", err
}

// setTotalScript marks a run's ingestion complete.
// KEYS[1] -> reactivator:{<run>}:run
// ARGV[1] -> the number of input rows, ARGV[2] -> now (unix ms)
// Returns 1 when that finished the run, 0 when not.
var setTotalScript = redis.NewScript(luaRecord + `
redis.call('HSET', KEYS[1], 'total', ARGV[1])
return finish_if_done(KEYS[1], ARGV[2])
`)

// SetTotal marks a run's ingestion complete with its number of input rows. It returns true when
// that finished the run (every row already had its outcome).
func (s *Store) SetTotal(ctx context.Context, runID string, total int) (bool, error) {
	n, err := setTotalScript.Run(ctx, s.rdb, []string{runKey(runID)}, total, s.now().UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("set total of run %s: %w", runID, err)
	}
	return n == 1, nil
}

// ReportRow is one input row with its outcome, as a report shows it.
type ReportRow struct {
	Line     int
	Provider Provider
	// Input is organization_id, member_id, user_id, then the extra columns.
	Input   []string
	Outcome OutcomeRecord
	// Pending is true when the row has no outcome yet.
	Pending bool
}

// EachRow calls fn for every input row of a run in line order, reading in batches so memory stays
// flat whatever the run's size.
func (s *Store) EachRow(ctx context.Context, runID string, fn func(ReportRow) error) error {
	r, err := s.Run(ctx, runID)
	if err != nil {
		return err
	}
	return s.eachBucketGroup(ctx, runID, r.MaxLine, func(lines []string, ins, outs []any) error {
		for i, v := range ins {
			in, ok := v.(string)
			if !ok {
				continue
			}
			line, _ := strconv.Atoi(lines[i])
			row := ReportRow{Line: line, Provider: r.Provider}
			row.Input, _, _, _ = decodeInput(in)
			if o, ok := outs[i].(string); ok {
				if row.Outcome, err = decodeOutcome(o, r.CreatedAt); err != nil {
					return fmt.Errorf("decode outcome of row %d of run %s: %w", row.Line, runID, err)
				}
			} else {
				row.Pending = true
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// Outcome returns a row's recorded outcome; ok is false while it has none.
func (s *Store) Outcome(ctx context.Context, runID string, line int) (OutcomeRecord, bool, error) {
	var created, out, long *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		created = p.HGet(ctx, runKey(runID), "created_at")
		out = p.HGet(ctx, outBucketKey(runID, line), bucketField(line))
		long = p.HGet(ctx, outOverflowKey(runID), strconv.Itoa(line))
		return nil
	})
	if errors.Is(out.Err(), redis.Nil) {
		return OutcomeRecord{}, false, nil
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return OutcomeRecord{}, false, err
	}
	var at time.Time
	if ms, err := created.Int64(); err == nil && ms != 0 {
		at = time.UnixMilli(ms)
	}
	v := out.Val()
	if v == overflowMark {
		v = long.Val()
	}
	o, err := decodeOutcome(v, at)
	return o, err == nil, err
}

// NeedsCall is a cheap look before a row waits for the rate budget: false when the row already
// has an outcome, or its run was cancelled (Begin then records it). Begin decides atomically.
func (s *Store) NeedsCall(ctx context.Context, runID string, line int) (bool, error) {
	var out *redis.BoolCmd
	var cancelled *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		out = p.HExists(ctx, outBucketKey(runID, line), bucketField(line))
		cancelled = p.HGet(ctx, runKey(runID), "cancelled")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("look up row %d of run %s: %w", line, runID, err)
	}
	return !out.Val() && cancelled.Val() != "1", nil
}

// rowsPerBucket is the number of lines one rows hash covers. Redis keeps a hash of up to 128
// fields whose values are at most 64 bytes as a listpack, a few bytes per field, against
// about 70 for a field of a big hash; 64 leaves room for a run's duplicates in the seen buckets.
const rowsPerBucket = 64

func rowsBucketKey(id string, line int) string {
	return runPrefix(id) + "rows:" + strconv.Itoa(line/rowsPerBucket)
}

// bucketField is a line's field in its buckets of rows and of outcomes: its place in the bucket.
// Redis keeps such a small number in a listpack in 2 bytes, where a line of six digits takes 5.
func bucketField(line int) string { return strconv.Itoa(line % rowsPerBucket) }

func claimsKey(id string) string { return runPrefix(id) + "claims" }

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

// luaBucketLines is the Lua function the claim and reclaim scripts read rows with:
// bucketLines(prefix, b, from, to) returns the lines from..to, all in bucket b (64 lines a
// bucket), with their inputs (reactivator:{R}:rows:<b>) and outcomes (reactivator:{R}:out:<b>),
// false where there is none.
const luaBucketLines = `
local function bucketLines(prefix, b, from, to)
  local lines, fields = {}, {}
  for l = from, to do
    lines[#lines + 1] = l
    fields[#fields + 1] = l % 64
  end
  return lines, redis.call('HMGET', prefix .. 'rows:' .. b, unpack(fields)),
    redis.call('HMGET', prefix .. 'out:' .. b, unpack(fields))
end
`

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
var claimScript = redis.NewScript(luaBucketLines + `
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
  local lines, ins, outs = bucketLines(prefix, b, cur, math.min(b * 64 + 63, maxline, cur + budget - 1))
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
var reclaimScript = redis.NewScript(luaBucketLines + `
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
      local lines, ins, outs = bucketLines(prefix, b, math.max(from, b * 64), math.min(to - 1, b * 64 + 63))
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

// Attempt is what Begin found for a row about to be called.
type Attempt struct {
	// Done is true when the row already has an outcome: do not call the provider.
	Done bool
	// Cancelled is true when the run was cancelled and Begin recorded the row as cancelled.
	Cancelled bool
	// Finished is true when recording the cancellation finished the run.
	Finished bool
	// N is this attempt's number, 1 for the first call.
	N int
	// MaybeApplied is true when an earlier attempt may have reached the provider: it timed out,
	// was reset, answered 5xx, or never concluded (its worker died).
	MaybeApplied bool
	// Paused is the provider's pause when it was paused at Begin: the row must not be called and
	// its attempt was not counted.
	Paused *Pause
	// AmbiguousSince is when the first attempt that may have reached the provider began; zero
	// when unknown or when no attempt was ambiguous. A read that finds the account changed at or
	// after it confirms that attempt's change.
	AmbiguousSince time.Time
}

// beginScript marks a row's attempt in flight, unless the row is done, its run gone or cancelled.
//
//	KEYS[1] -> reactivator:{R}:run
//	KEYS[2] -> reactivator:{R}:out:<n>, the outcomes of the line's bucket
//	KEYS[3] -> reactivator:{R}:att
//	ARGV[1] -> line
//	ARGV[2] -> now (unix ms)
//	ARGV[3] -> the encoded cancelled record ("@AMB@" in its message is replaced by a warning when an
//	           earlier attempt may have reached the provider)
//
// It returns {status (0 call, 1 done, 2 recorded cancelled), run finished (1/0), attempt number,
// flags (2: an attempt may have reached the provider), start of the first such attempt (ms)}.
var beginScript = redis.NewScript(luaRecord + `
local run, out, att = KEYS[1], KEYS[2], KEYS[3]
local line, now, rec = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HEXISTS', out, field(line)) == 1 then return {1, 0, 0, 0, 0} end
local r = redis.call('HMGET', run, 'provider', 'cancelled', 'first_call_at')
-- a run that is gone (pruned while this task waited; a hash without its fields, which an outcome
-- recorded after the prune leaves, is gone too) is never called
if not r[1] then return {1, 0, 0, 0, 0} end
local a = redis.call('HMGET', att, line, line .. ':s', line .. ':a')
local v = tonumber(a[1] or '0')
local n, f = math.floor(v / 4), v % 4
local amb = tonumber(a[3] or '0')
if f % 2 == 1 then
  -- the last attempt never concluded (its worker died mid-call): it may have reached the provider
  f = 3
  if not a[3] then
    amb = tonumber(a[2] or now)
    redis.call('HSET', att, line .. ':a', a[2] or now)
  end
end
if r[2] == '1' then
  if f >= 2 then rec = string.gsub(rec, '@AMB@', 'an earlier attempt may have reached the provider: check the account') else rec = string.gsub(rec, '@AMB@', '') end
  local fin = record(run, line, 'cancelled', rec, now, false)
  return {2, fin, n, f, amb}
end
n = n + 1
redis.call('HSET', att, line, n * 4 + (f - f % 2) + 1, line .. ':s', now)
if not r[3] then redis.call('HSET', run, 'first_call_at', now) end
tick(run, 'calls', now)
return {0, 0, n, f, amb}
`)

// Begin is called right before a row's provider call. It returns Done when the row already has
// an outcome (a redelivered task must not call again), records the row as cancelled when its run
// was cancelled, and otherwise counts the attempt and marks it in flight, unless provider p is
// paused: then it returns Paused and counts nothing. The pause is read in the same round trip
// (a pipeline: the pause key and the run's keys may live in different cluster slots), so it is
// the fleet's pause as of the moment before the call.
func (s *Store) Begin(ctx context.Context, p Provider, runID string, line int) (Attempt, error) {
	now := s.now()
	rec := OutcomeRecord{Outcome: Cancelled, Reason: "", Message: "@AMB@", FinishedAt: now}
	keys, args := []string{runKey(runID), outBucketKey(runID, line), attKey(runID)}, []any{line, now.UnixMilli(), rec.encode()}
	var pause *redis.StringCmd
	var begin *redis.Cmd
	_, err := s.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pause = pipe.HGet(ctx, pausedKey, string(p))
		begin = beginScript.EvalSha(ctx, pipe, keys, args...)
		return nil
	})
	if err != nil && redis.HasErrorPrefix(begin.Err(), "NOSCRIPT") {
		// The script cache is empty (a restarted Redis): the same two steps, one at a time.
		pause = s.rdb.HGet(ctx, pausedKey, string(p))
		begin = beginScript.Run(ctx, s.rdb, keys, args...)
		err = begin.Err()
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return Attempt{}, fmt.Errorf("begin row %d of run %s: %w", line, runID, err)
	}
	v, err := begin.Int64Slice()
	if err != nil {
		return Attempt{}, fmt.Errorf("begin row %d of run %s: %w", line, runID, err)
	}
	a := Attempt{N: int(v[2]), MaybeApplied: v[3] >= 2}
	if v[4] > 0 {
		a.AmbiguousSince = time.UnixMilli(v[4]).UTC()
	}
	switch v[0] {
	case 1:
		a.Done = true
	case 2:
		a.Cancelled, a.Finished, a.Done = true, v[1] == 1, true
	}
	if raw, perr := pause.Result(); perr == nil && !a.Done {
		var pz Pause
		_ = json.Unmarshal([]byte(raw), &pz)
		pz.Provider = p
		a.Paused = &pz
		if err := s.Unbegin(ctx, runID, line); err != nil {
			return Attempt{}, err
		}
	}
	return a, nil
}

// endAttemptScript concludes the attempt in flight of one row.
//
//	KEYS[1] -> reactivator:{R}:att
//	KEYS[2] -> reactivator:{R}:minutes
//	KEYS[3] -> reactivator:{R}:out:<n>, the outcomes of the line's bucket
//	ARGV[1] -> the row's line
//	ARGV[2] -> "1" when the attempt may have reached the provider, "0" when it did not
//	ARGV[3] -> "1" when the attempt never sent its request: it is not counted, nor is its call in
//	           the run's timeline
//	ARGV[4] -> now (unix ms), for the timeline's minute
//
// It returns the row's flags (2 when some attempt may have reached the provider), 0 and changes
// nothing when the row has its outcome (another delivery of its task recorded it meanwhile).
var endAttemptScript = redis.NewScript(`
local line = ARGV[1]
if redis.call('HEXISTS', KEYS[3], string.format('%d', tonumber(line) % 64)) == 1 then return 0 end
local v = tonumber(redis.call('HGET', KEYS[1], line) or '0')
local n, f = math.floor(v / 4), v % 4
f = f - f % 2
if ARGV[3] == '1' and n > 0 then
  n = n - 1
  local field = math.floor(tonumber(ARGV[4]) / 60000) .. ':calls'
  if tonumber(redis.call('HGET', KEYS[2], field) or '0') > 0 then redis.call('HINCRBY', KEYS[2], field, -1) end
end
if ARGV[2] == '1' then
  f = 2
  redis.call('HSETNX', KEYS[1], line .. ':a', redis.call('HGET', KEYS[1], line .. ':s') or '0')
end
redis.call('HSET', KEYS[1], line, n * 4 + f)
return f
`)

// EndAttempt concludes an attempt that ended no row (a transient or fatal answer). ambiguous says
// whether the call may have reached the provider; that mark stays for the row's later attempts.
func (s *Store) EndAttempt(ctx context.Context, runID string, line int, ambiguous bool) error {
	amb := "0"
	if ambiguous {
		amb = "1"
	}
	keys := []string{attKey(runID), minutesKey(runID), outBucketKey(runID, line)}
	if err := endAttemptScript.Run(ctx, s.rdb, keys, line, amb, "0", 0).Err(); err != nil {
		return fmt.Errorf("end attempt of row %d of run %s: %w", line, runID, err)
	}
	return nil
}

// Unbegin takes back a Begin whose request was never sent (a stop arrived between Begin and the
// call): the attempt is not counted and the row is no longer in flight.
func (s *Store) Unbegin(ctx context.Context, runID string, line int) error {
	keys := []string{attKey(runID), minutesKey(runID), outBucketKey(runID, line)}
	if err := endAttemptScript.Run(ctx, s.rdb, keys, line, "0", "1", s.now().UnixMilli()).Err(); err != nil {
		return fmt.Errorf("take back attempt of row %d of run %s: %w", line, runID, err)
	}
	return nil
}

// recordScript records a row's final outcome; the first outcome wins.
//
//	KEYS[1] -> reactivator:{R}:run
//	KEYS[2] -> reactivator:{R}:out:<n>, the outcomes of the line's bucket (record derives it)
//	KEYS[3] -> reactivator:{R}:att (record derives it)
//	ARGV[1] -> line
//	ARGV[2] -> outcome
//	ARGV[3] -> the encoded OutcomeRecord
//	ARGV[4] -> now (unix ms)
//	ARGV[5] -> "1" when the row is not_deactivated/already_active (counted apart: not a failure)
//
// It returns 1 when this outcome finished the run, 0 when not, -1 when the row already had one.
// The row's attempt fields go either way: a row with an outcome has none.
var recordScript = redis.NewScript(luaRecord + `
local r = record(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1')
if r < 0 then redis.call('HDEL', KEYS[3], ARGV[1], ARGV[1] .. ':s', ARGV[1] .. ':a') end
if r >= 0 and ARGV[5] == '1' then redis.call('HINCRBY', KEYS[1], 'already_active', 1) end
return r
`)

// Record sets a row's final outcome. The first outcome wins: recorded is false when the row
// already had one. finished is true when this outcome completed the run.
func (s *Store) Record(ctx context.Context, runID string, line int, o OutcomeRecord) (recorded, finished bool, err error) {
	if !o.Outcome.Valid() {
		return false, false, fmt.Errorf("record row %d of run %s: unknown outcome %q", line, runID, o.Outcome)
	}
	if o.FinishedAt.IsZero() {
		o.FinishedAt = s.now()
	}
	active := "0"
	if o.Outcome == NotDeactivated && o.Reason == ReasonAlreadyActive {
		active = "1"
	}
	keys := []string{runKey(runID), outBucketKey(runID, line), attKey(runID)}
	n, err := recordScript.Run(ctx, s.rdb, keys, line, string(o.Outcome), o.encode(), o.FinishedAt.UnixMilli(), active).Int()
	if err != nil {
		return false, false, fmt.Errorf("record row %d of run %s: %w", line, runID, err)
	}
	return n >= 0, n == 1, nil
}

// outcomeCodes are the one-letter codes of the outcomes in a stored record.
var outcomeCodes = map[Outcome]byte{
	Reactivated: 'R', Deactivated: 'E', NotActive: 'A', NotDeactivated: 'N', UnverifiedEmail: 'U',
	NotFound: 'F', Rejected: 'J', Failed: 'X', Invalid: 'I', Duplicate: 'D', Cancelled: 'C',
}

// usualStatus is the HTTP status an outcome's record leaves out: 200 for the changes the
// providers confirm, 0 (no call) for the rest.
func usualStatus(o Outcome) int {
	if o == Reactivated || o == Deactivated {
		return 200
	}
	return 0
}

// maxStoredOutcome is the longest record kept in the bucket's hash: Redis keeps a hash as a
// listpack while every value is at most hash-max-listpack-value bytes (64 by default), and a
// single longer value turns the whole bucket into a hash table, about 60 bytes more a row. A
// longer record (a long provider message, say) goes to the run's overflow hash instead.
const maxStoredOutcome = 64

// encode returns the record as the run store keeps it, without its time:
//
//	<code><HTTP status>|<attempts>|<request id>|<reason>|<message>
//
// code is the outcome's letter (outcomeCodes); the outcome's usual status (usualStatus) and zero
// attempts are left empty (another status is written, 0 included), and so are the empty fields
// at the end, with their bars (a reactivated row with a 200: "R|1|<request id>").
// The message comes last, so it may hold bars. A request id or reason with a bar, an outcome
// without a code, or a record with the id a lookup found, is kept as JSON instead ({"o":…}). The scripts that record it put the time in
// front: the whole seconds from the run's creation to the outcome (luaRecord's stamp). About 30
// bytes a row, where the JSON of OutcomeRecord took about 80.
func (o OutcomeRecord) encode() string {
	code, ok := outcomeCodes[o.Outcome]
	if !ok || strings.Contains(o.RequestID, "|") || strings.Contains(o.Reason, "|") || o.ResolvedID != "" {
		o.FinishedAt, o.Finished = time.Time{}, 0
		b, _ := json.Marshal(o)
		return string(b)
	}
	status := strconv.Itoa(o.HTTPStatus)
	if o.HTTPStatus == usualStatus(o.Outcome) {
		status = ""
	}
	attempts := ""
	if o.Attempts != 0 {
		attempts = strconv.Itoa(o.Attempts)
	}
	fields := []string{string(code) + status, attempts, o.RequestID, o.Reason, o.Message}
	for len(fields) > 1 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return strings.Join(fields, "|")
}

// decodeOutcome reads a stored record (encode, with the stamp in front) of a run created at
// created.
func decodeOutcome(s string, created time.Time) (OutcomeRecord, error) {
	var o OutcomeRecord
	i := 0
	for i < len(s) && (s[i] == '-' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	secs, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || i == len(s) {
		return o, fmt.Errorf("stored outcome %q: no time", s)
	}
	base := int64(0)
	if !created.IsZero() {
		base = created.Unix()
	}
	o.FinishedAt = time.Unix(base+secs, 0).UTC()
	rest := s[i:]
	if rest[0] == '{' {
		err := json.Unmarshal([]byte(rest), &o)
		return o, err
	}
	for out, c := range outcomeCodes {
		if c == rest[0] {
			o.Outcome = out
		}
	}
	if o.Outcome == "" {
		return o, fmt.Errorf("stored outcome %q: unknown code", s)
	}
	fields := strings.SplitN(rest[1:], "|", 5)
	fields = append(fields, make([]string, 5-len(fields))...)
	o.HTTPStatus = usualStatus(o.Outcome)
	if fields[0] != "" {
		if o.HTTPStatus, err = strconv.Atoi(fields[0]); err != nil {
			return o, fmt.Errorf("stored outcome %q: status: %w", s, err)
		}
	}
	if fields[1] != "" {
		if o.Attempts, err = strconv.Atoi(fields[1]); err != nil {
			return o, fmt.Errorf("stored outcome %q: attempts: %w", s, err)
		}
	}
	o.RequestID, o.Reason, o.Message = fields[2], fields[3], fields[4]
	return o, nil
}

// overflowMark is what a bucket holds for a record kept in the run's overflow hash.
const overflowMark = "~"

// luaRecord is the one place an outcome is recorded; scripts that end rows include it. Every key
// it touches is derived from the run's key reactivator:{R}:run, so it shares the run's hash tag.
//
// outkey(run, line) is the key of line's bucket of outcomes, reactivator:{R}:out:<n>, and
// field(line) line's field in it and in its bucket of rows: its place in the bucket, 0 to 63.
// record(run, line, outcome, rec, now, active) records rec (encode's text; the stamp goes in
// front) as line's outcome unless the line has one (a record longer than maxStoredOutcome goes to
// reactivator:{R}:outx, the bucket holding overflowMark), drops the line's attempt fields, counts the
// outcome (active: a not_deactivated row found already active, counted apart in the timeline)
// and finishes the run when it was the last row. It returns 1 when the run finished, 0 when
// not, -1 when the row already had an outcome.
// finish_if_done(run, now[, done[, total]]) sets finished_at when every row of a complete run has
// its outcome, and returns 1 then, 0 otherwise; done and total, when given, are the run's count of
// rows done and its total (record reads total with created_at in one HMGET).
const luaRecord = luaTick + `
local function finish_if_done(run, now, done, total)
  total = total or tonumber(redis.call('HGET', run, 'total') or '-1')
  done = done or tonumber(redis.call('HGET', run, 'done') or '0')
  if total >= 0 and done >= total and redis.call('HSETNX', run, 'finished_at', now) == 1 then
    return 1
  end
  return 0
end
local function outkey(run, line)
  return string.sub(run, 1, -4) .. 'out:' .. math.floor(tonumber(line) / 64)
end
local function field(line)
  return string.format('%d', tonumber(line) % 64)
end
local function record(run, line, outcome, rec, now, active)
  local rf = redis.call('HMGET', run, 'created_at', 'total')
  local created = tonumber(rf[1] or '0')
  local v = string.format('%d', math.floor(tonumber(now) / 1000) - math.floor(created / 1000)) .. rec
  local long = #v > 64 -- maxStoredOutcome
  local kept = v
  if long then kept = '~' end -- overflowMark
  if redis.call('HSETNX', outkey(run, line), field(line), kept) == 0 then return -1 end
  if long then redis.call('HSET', string.sub(run, 1, -4) .. 'outx', line, v) end
  redis.call('HDEL', string.sub(run, 1, -4) .. 'att', line, line .. ':s', line .. ':a')
  if active then
    tick(run, 'already_active', now)
  else
    tick(run, outcome, now)
  end
  redis.call('HINCRBY', run, 'n:' .. outcome, 1)
  local done = redis.call('HINCRBY', run, 'done', 1)
  redis.call('HSET', run, 'last_at', now)
  return finish_if_done(run, now, done, tonumber(rf[2] or '-1'))
end
`

// outBucketKey is the hash of the outcomes of line's bucket (rowsPerBucket lines).
func outBucketKey(id string, line int) string {
	return runPrefix(id) + "out:" + strconv.Itoa(line/rowsPerBucket)
}

// outOverflowKey is the hash of the outcomes too long for their bucket (maxStoredOutcome).
func outOverflowKey(id string) string { return runPrefix(id) + "outx" }
