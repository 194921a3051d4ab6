// A Store is responsible for every Redis key reactivator writes: runs, per-row inputs and
// outcomes, attempt counters, provider pauses, 429 cool-downs and the shared rate budget.

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"reactivator/internal/clock"
)

// Key layout. Keys of one run share the hash tag {<run id>} so that scripts touching several of
// them also run on a Redis Cluster.
//
//	reactivator:runs                 zset  run id -> created (unix ms): the index of runs
//	reactivator:runs:open            zset  the same, of runs not seen finished yet (store_list.go)
//	reactivator:{R}:run              hash  the run's fields (see Run) and counters n:<outcome>, done; sb the
//	                                       number of seen buckets, wcur the next line the window looks at,
//	                                       wstop the last line a canary (run --limit) lets it take
//	reactivator:{R}:rows:<n>         hash  line%64 -> the row's input as a JSON array (ids, then extra columns),
//	                                       for lines 64n to 64n+63 (store_window.go)
//	reactivator:{R}:seen:<n>         hash  row key (its 10 bytes) -> first line with those ids (dedupe), n = the key's first
//	                                       8 hex digits modulo the run's field sb (store_window.go)
//	reactivator:{R}:claims           hash  "<from>-<to>" -> unix ms: window claims not yet queued (store_window.go)
//	reactivator:{R}:out:<n>          hash  line%64 -> the row's outcome record (compact, see encode), for lines
//	                                       64n to 64n+63, like the rows buckets; set once, first wins; "~"
//	                                       for a record longer than 64 bytes, kept in :outx
//	reactivator:{R}:outx             hash  line -> the outcome records too long for their bucket (store_outcome.go)
//	reactivator:{R}:att              hash  line -> attempts*4 + flags (1 in flight, 2 ambiguous), line:s the
//	                                       start of the attempt in flight, line:a of the first ambiguous one
//	                                       (unix ms); only rows without an outcome: recording one deletes them
//	reactivator:{R}:budget           string the last reserved call slot of a run with its own rate (µs)
//	reactivator:{R}:minutes          hash  "<unix minute>:<calls|outcome|already_active>" -> count, for the
//	                                       dashboard's chart; expires timelineTTL after its last change (timeline.go)
//	reactivator:window:<provider>    zset  run id -> created (unix ms): runs whose rows the window still claims
//	reactivator:paused               hash  provider -> why its queue was paused (JSON)
//	reactivator:cooldown:<provider>  string set with an expiry while a 429 cool-down lasts
//	reactivator:{autorate:<p>}       string the rate --rate auto settled on (+ :up, :down guards)
//	reactivator:budget:<provider>    the last reserved call slot of the provider's global budget (µs)
//	reactivator:lock:<name>          string the token of the leader lock's holder, with an expiry (lock.go)
const keyPrefix = "reactivator:"

func runKey(id string) string { return keyPrefix + "{" + id + "}:run" }

// outBucketKey is the hash of the outcomes of line's bucket (rowsPerBucket lines).
func outBucketKey(id string, line int) string {
	return runPrefix(id) + "out:" + strconv.Itoa(line/rowsPerBucket)
}

// outOverflowKey is the hash of the outcomes too long for their bucket (maxStoredOutcome).
func outOverflowKey(id string) string { return runPrefix(id) + "outx" }
func attKey(id string) string         { return keyPrefix + "{" + id + "}:att" }

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
	// budgetClock is the time of the rate budgets; nil means Redis's TIME, the one clock every
	// worker of the fleet shares (tests set their own).
	budgetClock clock.Clock
}

// NewStore returns a Store over rdb.
func NewStore(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb, now: time.Now}
}

// NewStoreAt returns a Store over rdb that reads the time from c (nil means clock.Real): when a
// run was created, when a row that ends at ingest got its outcome, when a row's call began.
// Tests of what shows those times (a report, say) give it a fixed clock.
func NewStoreAt(rdb redis.UniversalClient, c clock.Clock) *Store {
	return &Store{rdb: rdb, now: clock.Or(c).Now}
}

// Redis returns the store's client, for the asynq connection that shares it.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

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
-- a run that is gone (pruned while this task waited) is never called
if redis.call('EXISTS', run) == 0 then return {1, 0, 0, 0, 0} end
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
  local fin = record(run, line, 'cancelled', rec, now, false)
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

// cancelScript records the cancelled outcome of the rows of a cancelled run that have none and
// are not in flight.
//
//	KEYS[1] -> reactivator:{R}:run
//	KEYS[2] -> reactivator:{R}:att
//	ARGV[1] -> now (unix ms)
//	ARGV[2] -> the encoded cancelled record
//	ARGV[3] -> the same, for a row an earlier attempt of which may have reached the provider
//	ARGV[4..] -> lines (the outcomes' buckets reactivator:{R}:out:<n> are derived from KEYS[1])
//
// It returns {rows cancelled, run finished (1/0)}.
var cancelScript = redis.NewScript(luaRecord + `
local run, att = KEYS[1], KEYS[2]
local now, rec, recamb = ARGV[1], ARGV[2], ARGV[3]
local n, fin = 0, 0
for i = 4, #ARGV do
  local line = ARGV[i]
  if redis.call('HEXISTS', outkey(run, line), field(line)) == 0 then
    local v = tonumber(redis.call('HGET', att, line) or '0')
    if v % 2 == 0 then
      local r = rec
      if v % 4 >= 2 then r = recamb end
      local res = record(run, line, 'cancelled', r, now, false)
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
	// Every line the run holds, a group of buckets at a time; rows with an outcome (the invalid
	// and duplicate ones among them) are left alone by the script.
	// Read after the cancelled mark: rows an ingestion adds later are cancelled by Begin.
	run, err := s.Run(ctx, runID)
	if err != nil {
		return 0, false, err
	}
	err = s.eachBucketGroup(ctx, runID, run.MaxLine, func(lines []string, ins, _ []any) error {
		args := make([]any, 0, 3+len(lines))
		args = append(args, now.UnixMilli(), rec, recAmb)
		for i, l := range lines {
			if _, ok := ins[i].(string); ok {
				args = append(args, l)
			}
		}
		if len(args) == 3 {
			return nil
		}
		v, err := cancelScript.Run(ctx, s.rdb, []string{runKey(runID), attKey(runID)}, args...).Int64Slice()
		if err != nil {
			return err
		}
		total += int(v[0])
		finished = finished || v[1] == 1
		return nil
	})
	if err != nil {
		return total, finished, fmt.Errorf("cancel run %s: %w", runID, err)
	}
	return total, finished, nil
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
