// This file holds the rows of a run in the store: recording the input rows of an ingestion,
// marking its end, and reading rows and outcomes back in line order for reports.

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
// (store_window.go), invalid rows as invalid, repeats as duplicate of their first line. The valid
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
