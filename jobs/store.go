// A Store is responsible for every Redis key reactivator writes: runs, per-row inputs and
// outcomes, attempt counters, provider pauses, 429 cool-downs and the shared rate budget.

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

// Key layout. Keys of one run share the hash tag {<run id>} so that scripts touching several of
// them also run on a Redis Cluster.
//
//	reactivator:runs                 zset  run id -> created (unix ms): the index of runs
//	reactivator:runs:open            zset  the same, of runs not seen finished yet (store_list.go)
//	reactivator:{R}:run              hash  the run's fields (see Run) and counters n:<outcome>, done
//	reactivator:{R}:rows             hash  line -> the row's input as a JSON array (ids, then extra columns)
//	reactivator:{R}:seen             hash  row key -> first line with those ids (dedupe)
//	reactivator:{R}:out              hash  line -> the row's outcome record (JSON); set once, first wins
//	reactivator:{R}:att              hash  line -> attempts*4 + flags (1 in flight, 2 ambiguous)
//	reactivator:{R}:budget           string the last reserved call slot of a run with its own rate (µs)
//	reactivator:{R}:minutes          hash  "<unix minute>:<calls|outcome|already_active>" -> count, for the
//	                                       dashboard's chart; expires timelineTTL after its last change (timeline.go)
//	reactivator:paused               hash  provider -> why its queue was paused (JSON)
//	reactivator:cooldown:<provider>  string set with an expiry while a 429 cool-down lasts
//	reactivator:{autorate:<p>}       string the rate --rate auto settled on (+ :up, :down guards)
//	reactivator:budget:<provider>    the last reserved call slot of the provider's global budget (µs)
//	reactivator:lock:<name>          string the token of the leader lock's holder, with an expiry (lock.go)
const keyPrefix = "reactivator:"

func runKey(id string) string  { return keyPrefix + "{" + id + "}:run" }
func rowsKey(id string) string { return keyPrefix + "{" + id + "}:rows" }
func seenKey(id string) string { return keyPrefix + "{" + id + "}:seen" }
func outKey(id string) string  { return keyPrefix + "{" + id + "}:out" }
func attKey(id string) string  { return keyPrefix + "{" + id + "}:att" }

func autoRateKey(p Provider) string { return keyPrefix + "{autorate:" + string(p) + "}" }

const (
	runsKey   = keyPrefix + "runs"
	pausedKey = keyPrefix + "paused"
)

// ErrRunNotFound is returned for a run id the store does not know.
var ErrRunNotFound = errors.New("run not found")

// Store records runs and outcomes in Redis. It is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// NewStore returns a Store over rdb.
func NewStore(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb, now: time.Now}
}

// Redis returns the store's client, for the asynq connection that shares it.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

// RunState is where a run stands.
type RunState string

// Run states.
const (
	RunIngesting RunState = "ingesting" // rows are still being read and queued
	RunQueued    RunState = "queued"    // every row is queued or recorded; workers are on it
	RunFinished  RunState = "finished"  // every row has its outcome
)

// Run is one ingested file (or scheduled pick-up) and its progress.
type Run struct {
	ID       string   `json:"id"`
	Provider Provider `json:"provider"`
	File     string   `json:"file"`
	// Columns are the input's extra column names, carried into the report.
	Columns   []string  `json:"columns,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Total is the number of input rows; -1 while ingesting.
	Total int `json:"total"`
	// Done is the number of rows with an outcome.
	Done          int             `json:"done"`
	Counts        map[Outcome]int `json:"counts"`
	State         RunState        `json:"state"`
	Cancelled     bool            `json:"cancelled,omitempty"`
	FirstCallAt   time.Time       `json:"first_call_at,omitzero"`
	LastOutcomeAt time.Time       `json:"last_outcome_at,omitzero"`
	FinishedAt    time.Time       `json:"finished_at,omitzero"`
	Note          string          `json:"note,omitempty"`
	// RateLimit caps this run's calls per second, below its provider's limit (a schedule's rate);
	// 0 means only the provider's limit applies.
	RateLimit float64 `json:"rate_limit,omitempty"`
	// AlreadyActive counts the not_deactivated rows whose account was read and found active:
	// nothing was wrong with them, so they are not failures.
	AlreadyActive int               `json:"already_active,omitempty"`
	MaxLine       int               `json:"max_line"`
	Extra         map[string]string `json:"-"`
}

// Failures returns the number of rows that ended as a permanent failure. A not_deactivated row
// whose account was found active (reason already_active) is not one: the account is where the
// operator wants it.
func (r Run) Failures() int {
	n := -r.AlreadyActive
	for o, c := range r.Counts {
		if o.Permanent() {
			n += c
		}
	}
	return n
}

// Rate returns rows per second between the first call and the last outcome, 0 when unknown.
func (r Run) Rate() float64 {
	if r.FirstCallAt.IsZero() || !r.LastOutcomeAt.After(r.FirstCallAt) {
		return 0
	}
	return float64(r.Done) / r.LastOutcomeAt.Sub(r.FirstCallAt).Seconds()
}

// CreateRun records a new run, or returns the existing run of that id (created false): ingesting
// the same file again resumes its run.
func (s *Store) CreateRun(ctx context.Context, r Run) (Run, bool, error) {
	if r.ID == "" || strings.ContainsAny(r.ID, "{}: \t\r\n") {
		return Run{}, false, fmt.Errorf("run id %q: must be non-empty without braces, colons or whitespace", r.ID)
	}
	cols, _ := json.Marshal(r.Columns)
	now := s.now()
	// One script, so that a concurrent CreateRun of the same id (two overlapping ingests of one
	// file) never sees the run half-written.
	rate := ""
	if r.RateLimit > 0 {
		rate = strconv.FormatFloat(r.RateLimit, 'f', -1, 64)
	}
	n, err := createRunScript.Run(ctx, s.rdb, []string{runKey(r.ID)}, r.ID, string(r.Provider), r.File, string(cols), now.UnixMilli(), rate).Int()
	if err != nil {
		return Run{}, false, fmt.Errorf("create run %s: %w", r.ID, err)
	}
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		return Run{}, false, err
	}
	// The index is another key (another hash slot): added apart, idempotently, by every caller,
	// so a creator that died in between is made good by the next.
	if err := s.indexRun(ctx, r.ID, got.CreatedAt.UnixMilli()); err != nil {
		return Run{}, false, fmt.Errorf("create run %s: %w", r.ID, err)
	}
	return got, n == 1, nil
}

var createRunScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], 'id', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'provider', ARGV[2], 'file', ARGV[3], 'columns', ARGV[4],
  'created_at', ARGV[5], 'total', -1, 'done', 0, 'max_line', 0)
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'rate_limit', ARGV[6]) end
return 1
`)

// Run returns the run of that id, or ErrRunNotFound.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	m, err := s.rdb.HGetAll(ctx, runKey(id)).Result()
	if err != nil {
		return Run{}, fmt.Errorf("read run %s: %w", id, err)
	}
	if len(m) == 0 || m["provider"] == "" {
		return Run{}, fmt.Errorf("%w: %s", ErrRunNotFound, id)
	}
	return parseRun(m), nil
}

func parseRun(m map[string]string) Run {
	num := func(k string) int { n, _ := strconv.Atoi(m[k]); return n }
	ms := func(k string) time.Time {
		n, err := strconv.ParseInt(m[k], 10, 64)
		if err != nil || n == 0 {
			return time.Time{}
		}
		return time.UnixMilli(n).UTC()
	}
	r := Run{
		ID: m["id"], Provider: Provider(m["provider"]), File: m["file"], CreatedAt: ms("created_at"),
		Total: num("total"), Done: num("done"), Counts: map[Outcome]int{}, Cancelled: m["cancelled"] == "1",
		FirstCallAt: ms("first_call_at"), LastOutcomeAt: ms("last_at"), FinishedAt: ms("finished_at"),
		Note: m["note"], MaxLine: num("max_line"), AlreadyActive: num("already_active"), Extra: map[string]string{},
	}
	r.RateLimit, _ = strconv.ParseFloat(m["rate_limit"], 64)
	_ = json.Unmarshal([]byte(m["columns"]), &r.Columns)
	for _, o := range Outcomes {
		if n := num("n:" + string(o)); n > 0 {
			r.Counts[o] = n
		}
	}
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, "x:"); ok {
			r.Extra[rest] = v
		}
	}
	switch {
	case !r.FinishedAt.IsZero():
		r.State = RunFinished
	case r.Total < 0:
		r.State = RunIngesting
	default:
		r.State = RunQueued
	}
	return r
}

// Runs returns every run, newest first, read a page at a time. It costs what the store keeps:
// readers that run often (status, the dashboard, metrics) use ListRuns or OpenRuns instead.
func (s *Store) Runs(ctx context.Context) ([]Run, error) {
	var runs []Run
	err := s.EachRun(ctx, 500, func(r Run) error { runs = append(runs, r); return nil })
	return runs, err
}

// SetRunExtra stores a free-form field of a run (the report path a schedule wants, say); it is
// read back in Run.Extra.
func (s *Store) SetRunExtra(ctx context.Context, id, field, value string) error {
	return s.rdb.HSet(ctx, runKey(id), "x:"+field, value).Err()
}

// SetNote records why a run is held up (its provider's queue is paused, say); "" clears it.
func (s *Store) SetNote(ctx context.Context, id, note string) error {
	return s.rdb.HSet(ctx, runKey(id), "note", note).Err()
}

// luaRecord is the one place an outcome is recorded; scripts that end rows include it.
// It returns 1 and finishes the run when the row was the last one, 0 otherwise, -1 when the row
// already had an outcome.
const luaRecord = luaTick + `
local function finish_if_done(run, now)
  local total = tonumber(redis.call('HGET', run, 'total') or '-1')
  local done = tonumber(redis.call('HGET', run, 'done') or '0')
  if total >= 0 and done >= total and redis.call('HSETNX', run, 'finished_at', now) == 1 then
    return 1
  end
  return 0
end
local function record(run, out, line, outcome, rec, now)
  if redis.call('HSETNX', out, line, rec) == 0 then return -1 end
  if outcome == 'not_deactivated' and string.find(rec, '"r":"already_active"', 1, true) then
    tick(run, 'already_active', now)
  else
    tick(run, outcome, now)
  end
  redis.call('HINCRBY', run, 'n:' .. outcome, 1)
  redis.call('HINCRBY', run, 'done', 1)
  redis.call('HSET', run, 'last_at', now)
  return finish_if_done(run, now)
end
`

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
	// AddQueue: the row is new (or was recorded but never finished): queue its task.
	AddQueue AddAction = iota
	// AddDone: the same line of the same run already has its outcome: nothing to do.
	AddDone
	// AddDuplicate: the row repeats an earlier line; recorded as duplicate.
	AddDuplicate
	// AddInvalid: the row is unusable; recorded as invalid.
	AddInvalid
)

var addRowsScript = redis.NewScript(luaRecord + `
local run, rows, seen, out = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, dup = ARGV[1], ARGV[2]
local res = {}
local maxline = tonumber(redis.call('HGET', run, 'max_line') or '0')
local i = 3
while i <= #ARGV do
  local line, key, input, rec, kind = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  i = i + 5
  if tonumber(line) > maxline then maxline = tonumber(line) end
  redis.call('HSET', rows, line, input)
  if kind == 'i' then
    record(run, out, line, 'invalid', rec, now)
    table.insert(res, 3)
  else
    local first = redis.call('HGET', seen, key)
    if not first then
      redis.call('HSET', seen, key, line)
      table.insert(res, 0)
    elseif first == line then
      if redis.call('HEXISTS', out, line) == 1 then table.insert(res, 1) else table.insert(res, 0) end
    else
      record(run, out, line, 'duplicate', string.gsub(dup, '@FIRST@', first), now)
      table.insert(res, 2)
    end
  end
end
redis.call('HSET', run, 'max_line', maxline)
return res
`)

// AddRows records a batch of input rows of a run in one round trip: each row's input for the
// report, invalid rows as invalid, repeats as duplicate of their first line. It returns, per row,
// whether to queue it. Calling it again with the same rows (a resumed ingest) queues nothing
// that already has an outcome.
func (s *Store) AddRows(ctx context.Context, runID string, rows []IngestRow) ([]AddAction, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	now := s.now().UnixMilli()
	dup := OutcomeRecord{Outcome: Duplicate, Message: "duplicate of line @FIRST@", FinishedAt: time.UnixMilli(now)}
	args := make([]any, 0, 2+5*len(rows))
	args = append(args, now, dup.encode())
	for _, r := range rows {
		in, _ := json.Marshal(r.Input)
		line := strconv.Itoa(r.Row.Line)
		if r.Invalid != "" {
			rec := OutcomeRecord{Outcome: Invalid, Message: r.Invalid, FinishedAt: time.UnixMilli(now)}
			args = append(args, line, "", in, rec.encode(), "i")
			continue
		}
		args = append(args, line, r.Row.Key(), in, "", "v")
	}
	res, err := addRowsScript.Run(ctx, s.rdb, []string{runKey(runID), rowsKey(runID), seenKey(runID), outKey(runID)}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("record rows of run %s: %w", runID, err)
	}
	acts := make([]AddAction, len(res))
	for i, v := range res {
		acts[i] = AddAction(v)
	}
	return acts, nil
}

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

// OutcomeRecord is a row's recorded outcome.
type OutcomeRecord struct {
	Outcome    Outcome   `json:"o"`
	Reason     string    `json:"r,omitempty"`
	HTTPStatus int       `json:"s,omitempty"`
	RequestID  string    `json:"q,omitempty"`
	Attempts   int       `json:"a,omitempty"`
	FinishedAt time.Time `json:"-"`
	Finished   int64     `json:"t,omitempty"`
	Message    string    `json:"m,omitempty"`
}

func (o OutcomeRecord) encode() string {
	if !o.FinishedAt.IsZero() {
		o.Finished = o.FinishedAt.UnixMilli()
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func decodeOutcome(s string) (OutcomeRecord, error) {
	var o OutcomeRecord
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return o, err
	}
	if o.Finished != 0 {
		o.FinishedAt = time.UnixMilli(o.Finished).UTC()
	}
	return o, nil
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

var beginScript = redis.NewScript(luaRecord + `
local run, out, att = KEYS[1], KEYS[2], KEYS[3]
local line, now, rec = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HEXISTS', out, line) == 1 then return {1, 0, 0, 0, 0} end
local v = tonumber(redis.call('HGET', att, line) or '0')
local n, f = math.floor(v / 4), v % 4
if f % 2 == 1 then
  -- the last attempt never concluded (its worker died mid-call): it may have reached the provider
  f = 3
  redis.call('HSETNX', att, line .. ':a', redis.call('HGET', att, line .. ':s') or now)
end
local amb = tonumber(redis.call('HGET', att, line .. ':a') or '0')
if redis.call('HGET', run, 'cancelled') == '1' then
  if f >= 2 then rec = string.gsub(rec, '@AMB@', 'an earlier attempt may have reached the provider: check the account') else rec = string.gsub(rec, '@AMB@', '') end
  local fin = record(run, out, line, 'cancelled', rec, now)
  return {2, fin, n, f, amb}
end
n = n + 1
redis.call('HSET', att, line, n * 4 + (f - f % 2) + 1, line .. ':s', now)
redis.call('HSETNX', run, 'first_call_at', now)
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
	keys, args := []string{runKey(runID), outKey(runID), attKey(runID)}, []any{line, now.UnixMilli(), rec.encode()}
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
// KEYS[1] -> reactivator:{<run>}:att
// ARGV[1] -> the row's line
// ARGV[2] -> "1" when the attempt may have reached the provider, "0" when it did not
// ARGV[3] -> "1" when the attempt never sent its request: it is not counted, nor is its call in
// the run's timeline (KEYS[2] -> reactivator:{<run>}:minutes, ARGV[4] -> now in ms)
// Returns the row's flags (2 when some attempt may have reached the provider).
var endAttemptScript = redis.NewScript(`
local line = ARGV[1]
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
	if err := endAttemptScript.Run(ctx, s.rdb, []string{attKey(runID), minutesKey(runID)}, line, amb, "0", 0).Err(); err != nil {
		return fmt.Errorf("end attempt of row %d of run %s: %w", line, runID, err)
	}
	return nil
}

// Unbegin takes back a Begin whose request was never sent (a stop arrived between Begin and the
// call): the attempt is not counted and the row is no longer in flight.
func (s *Store) Unbegin(ctx context.Context, runID string, line int) error {
	if err := endAttemptScript.Run(ctx, s.rdb, []string{attKey(runID), minutesKey(runID)}, line, "0", "1", s.now().UnixMilli()).Err(); err != nil {
		return fmt.Errorf("take back attempt of row %d of run %s: %w", line, runID, err)
	}
	return nil
}

// recordScript records a row's final outcome; the first outcome wins.
// KEYS[1] -> reactivator:{<run>}:run, KEYS[2] -> …:out, KEYS[3] -> …:att
// ARGV[1] -> line, ARGV[2] -> outcome, ARGV[3] -> encoded OutcomeRecord, ARGV[4] -> now (ms),
// ARGV[5] -> "1" when the row is not_deactivated/already_active (counted apart: not a failure)
// Returns 1 when this outcome finished the run, 0 when not, -1 when the row already had one.
var recordScript = redis.NewScript(luaRecord + `
local v = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if v > 0 then redis.call('HSET', KEYS[3], ARGV[1], math.floor(v / 4) * 4 + (v % 4 - v % 2)) end
redis.call('HDEL', KEYS[3], ARGV[1] .. ':s', ARGV[1] .. ':a')
local r = record(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
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
	n, err := recordScript.Run(ctx, s.rdb, []string{runKey(runID), outKey(runID), attKey(runID)}, line, string(o.Outcome), o.encode(), o.FinishedAt.UnixMilli(), active).Int()
	if err != nil {
		return false, false, fmt.Errorf("record row %d of run %s: %w", line, runID, err)
	}
	return n >= 0, n == 1, nil
}

var cancelScript = redis.NewScript(luaRecord + `
local run, out, att = KEYS[1], KEYS[2], KEYS[3]
local now, rec, recamb = ARGV[1], ARGV[2], ARGV[3]
local n, fin = 0, 0
for i = 4, #ARGV do
  local line = ARGV[i]
  if redis.call('HEXISTS', out, line) == 0 then
    local v = tonumber(redis.call('HGET', att, line) or '0')
    if v % 2 == 0 then
      local r = rec
      if v % 4 >= 2 then r = recamb end
      local res = record(run, out, line, 'cancelled', r, now)
      n = n + 1
      if res == 1 then fin = 1 end
    end
  end
end
return {n, fin}
`)

// Cancel cancels a run: no row of it is called from now on. Rows without an outcome that are not
// in flight end as cancelled at once (a row whose earlier attempt may have reached the provider
// says so); rows in flight end with their call's true outcome. It returns how many rows it
// cancelled and whether the run is finished.
func (s *Store) Cancel(ctx context.Context, runID string) (int, bool, error) {
	if _, err := s.Run(ctx, runID); err != nil {
		return 0, false, err
	}
	if err := s.rdb.HSet(ctx, runKey(runID), "cancelled", 1).Err(); err != nil {
		return 0, false, fmt.Errorf("cancel run %s: %w", runID, err)
	}
	now := s.now()
	rec := OutcomeRecord{Outcome: Cancelled, FinishedAt: now, Message: "run cancelled before this row was called"}.encode()
	recAmb := OutcomeRecord{Outcome: Cancelled, FinishedAt: now, Message: "run cancelled; an earlier attempt may have reached the provider: check the account"}.encode()
	total, finished := 0, false
	var cursor uint64
	for {
		kv, next, err := s.rdb.HScan(ctx, seenKey(runID), cursor, "", 1000).Result()
		if err != nil {
			return total, finished, fmt.Errorf("cancel run %s: %w", runID, err)
		}
		args := []any{now.UnixMilli(), rec, recAmb}
		for i := 1; i < len(kv); i += 2 {
			args = append(args, kv[i])
		}
		if len(args) > 3 {
			v, err := cancelScript.Run(ctx, s.rdb, []string{runKey(runID), outKey(runID), attKey(runID)}, args...).Int64Slice()
			if err != nil {
				return total, finished, fmt.Errorf("cancel run %s: %w", runID, err)
			}
			total += int(v[0])
			finished = finished || v[1] == 1
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	return total, finished, nil
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
	const batch = 1000
	for start := 2; start <= r.MaxLine; start += batch {
		lines := make([]string, 0, batch)
		for l := start; l < start+batch && l <= r.MaxLine; l++ {
			lines = append(lines, strconv.Itoa(l))
		}
		var ins, outs *redis.SliceCmd
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			ins = p.HMGet(ctx, rowsKey(runID), lines...)
			outs = p.HMGet(ctx, outKey(runID), lines...)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read rows of run %s: %w", runID, err)
		}
		for i, v := range ins.Val() {
			in, ok := v.(string)
			if !ok {
				continue
			}
			row := ReportRow{Line: start + i, Provider: r.Provider}
			_ = json.Unmarshal([]byte(in), &row.Input)
			if o, ok := outs.Val()[i].(string); ok {
				if row.Outcome, err = decodeOutcome(o); err != nil {
					return fmt.Errorf("decode outcome of row %d of run %s: %w", row.Line, runID, err)
				}
			} else {
				row.Pending = true
			}
			if err := fn(row); err != nil {
				return err
			}
		}
	}
	return nil
}

// Outcome returns a row's recorded outcome; ok is false while it has none.
func (s *Store) Outcome(ctx context.Context, runID string, line int) (OutcomeRecord, bool, error) {
	v, err := s.rdb.HGet(ctx, outKey(runID), strconv.Itoa(line)).Result()
	if errors.Is(err, redis.Nil) {
		return OutcomeRecord{}, false, nil
	}
	if err != nil {
		return OutcomeRecord{}, false, err
	}
	o, err := decodeOutcome(v)
	return o, err == nil, err
}

// Pause is why a provider's queue was paused.
type Pause struct {
	Provider Provider  `json:"provider"`
	Reason   string    `json:"reason"`
	RunID    string    `json:"run_id,omitempty"`
	Line     int       `json:"line,omitempty"`
	At       time.Time `json:"at"`
}

// SetPaused records why a provider's queue was paused; the first reason stays until ClearPaused.
func (s *Store) SetPaused(ctx context.Context, p Pause) error {
	if p.At.IsZero() {
		p.At = s.now()
	}
	b, _ := json.Marshal(p)
	return s.rdb.HSetNX(ctx, pausedKey, string(p.Provider), b).Err()
}

// ClearPaused forgets a provider's pause.
func (s *Store) ClearPaused(ctx context.Context, p Provider) error {
	return s.rdb.HDel(ctx, pausedKey, string(p)).Err()
}

// PauseOf returns a provider's pause, ok false when it is not paused. It is the one source of
// truth a worker consults right before each call: asynq's queue pause only mirrors it.
func (s *Store) PauseOf(ctx context.Context, p Provider) (Pause, bool, error) {
	v, err := s.rdb.HGet(ctx, pausedKey, string(p)).Result()
	if errors.Is(err, redis.Nil) {
		return Pause{}, false, nil
	}
	if err != nil {
		return Pause{}, false, fmt.Errorf("read %s pause: %w", p, err)
	}
	var pz Pause
	_ = json.Unmarshal([]byte(v), &pz)
	pz.Provider = p
	return pz, true, nil
}

// Paused returns the providers whose queue is paused, and why.
func (s *Store) Paused(ctx context.Context) (map[Provider]Pause, error) {
	m, err := s.rdb.HGetAll(ctx, pausedKey).Result()
	if err != nil {
		return nil, fmt.Errorf("read paused providers: %w", err)
	}
	out := make(map[Provider]Pause, len(m))
	for k, v := range m {
		var p Pause
		_ = json.Unmarshal([]byte(v), &p)
		out[Provider(k)] = p
	}
	return out, nil
}

// SetCooldown makes every worker of a provider hold its calls for d (a 429 answer). A longer
// cool-down already in place is kept.
func (s *Store) SetCooldown(ctx context.Context, p Provider, d time.Duration) error {
	key := keyPrefix + "cooldown:" + string(p)
	until := s.now().Add(d).UnixMilli()
	cur, err := s.rdb.Get(ctx, key).Int64()
	if err == nil && cur >= until {
		return nil
	}
	return s.rdb.Set(ctx, key, until, d).Err()
}

// Cooldown returns how long a provider's cool-down still lasts, 0 when none.
func (s *Store) Cooldown(ctx context.Context, p Provider) (time.Duration, error) {
	until, err := s.rdb.Get(ctx, keyPrefix+"cooldown:"+string(p)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if d := time.UnixMilli(until).Sub(s.now()); d > 0 {
		return d, nil
	}
	return 0, nil
}

var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance, maxwait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = last + interval
if slot < now - tolerance then slot = now - tolerance end
local wait = slot - now
if wait < 0 then wait = 0 end
if wait > maxwait then return {0, wait} end
redis.call('SET', KEYS[1], string.format('%d', slot), 'PX', math.floor((slot - now + tolerance) / 1000) + 60000)
return {1, wait}
`)

// Reserve takes a slot in the provider's global budget of perSecond calls per second, shared by
// every worker process: slots are spaced 1/perSecond apart on Redis's clock, with up to burst of
// them at once after an idle spell. It returns how long to wait before calling. When the slot is
// further away than maxWait it reserves nothing and returns ok false with the wait it would need.
//
// A reservation is one round trip per call whatever the contention: unlike an allow/deny limiter,
// waiters do not wake together to race for the next token.
func (s *Store) Reserve(ctx context.Context, p Provider, perSecond float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	return s.reserve(ctx, keyPrefix+"budget:"+string(p), perSecond, burst, maxWait)
}

// ReserveRun takes a slot in a run's own budget (Run.RateLimit), as Reserve does for a provider.
func (s *Store) ReserveRun(ctx context.Context, runID string, perSecond float64, maxWait time.Duration) (time.Duration, bool, error) {
	return s.reserve(ctx, keyPrefix+"{"+runID+"}:budget", perSecond, 1, maxWait)
}

func (s *Store) reserve(ctx context.Context, key string, perSecond float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	if perSecond <= 0 {
		return 0, true, nil
	}
	burst = max(burst, 1)
	interval := 1e6 / perSecond
	v, err := reserveScript.Run(ctx, s.rdb, []string{key},
		int64(interval), int64(interval*float64(burst-1)), maxWait.Microseconds()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("rate budget %s: %w", key, err)
	}
	return time.Duration(v[1]) * time.Microsecond, v[0] == 1, nil
}

// AutoRate returns the rate --rate auto last settled on for a provider; ok is false when none.
func (s *Store) AutoRate(ctx context.Context, p Provider) (float64, bool, error) {
	v, err := s.rdb.Get(ctx, autoRateKey(p)).Float64()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	return v, err == nil, err
}

// NeedsCall is a cheap look before a row waits for the rate budget: false when the row already
// has an outcome, or its run was cancelled (Begin then records it). Begin decides atomically.
func (s *Store) NeedsCall(ctx context.Context, runID string, line int) (bool, error) {
	var out *redis.BoolCmd
	var cancelled *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		out = p.HExists(ctx, outKey(runID), strconv.Itoa(line))
		cancelled = p.HGet(ctx, runKey(runID), "cancelled")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("look up row %d of run %s: %w", line, runID, err)
	}
	return !out.Val() && cancelled.Val() != "1", nil
}

var autoRateScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or ARGV[3])
local lo, hi = tonumber(ARGV[4]), tonumber(ARGV[5])
if ARGV[1] == 'up' then
  if redis.call('SET', KEYS[2], '1', 'PX', ARGV[2], 'NX') then cur = cur + tonumber(ARGV[6]) end
else
  if redis.call('SET', KEYS[3], '1', 'PX', ARGV[2], 'NX') then cur = cur * tonumber(ARGV[6]) end
end
if cur < lo then cur = lo end
if cur > hi then cur = hi end
redis.call('SET', KEYS[1], string.format('%.2f', cur))
return tostring(cur)
`)

// AutoRateStep moves a provider's shared --rate auto value: up adds step at most once per
// period across the whole fleet; down (a 429) multiplies by factor at most once per period. The
// result stays within [min, max]; start is the value when none is recorded yet.
func (s *Store) AutoRateStep(ctx context.Context, p Provider, up bool, amount, start, min, max float64, period time.Duration) (float64, error) {
	op := "down"
	if up {
		op = "up"
	}
	base := autoRateKey(p)
	v, err := autoRateScript.Run(ctx, s.rdb, []string{base, base + ":up", base + ":down"},
		op, period.Milliseconds(), start, min, max, amount).Float64()
	if err != nil {
		return 0, fmt.Errorf("auto rate of %s: %w", p, err)
	}
	return v, nil
}
