// A Store is responsible for every Redis key reactivator writes: runs, per-row inputs and
// outcomes, attempt counters, provider pauses, 429 cool-downs and the shared rate budget.

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
//	                                       wstop the last line a canary (run --limit) lets it take, pruning
//	                                       1 once Prune began deleting the run's keys (store_prune.go)
//	reactivator:{R}:rows:<n>         hash  line%64 -> the row's input as a JSON array (ids, then extra columns),
//	                                       for lines 64n to 64n+63 (store_rows.go)
//	reactivator:{R}:seen:<n>         hash  row key (its 10 bytes) -> first line with those ids (dedupe), n = the key's first
//	                                       8 hex digits modulo the run's field sb (store_rows.go)
//	reactivator:{R}:claims           hash  "<from>-<to>" -> unix ms: window claims not yet queued (store_rows.go)
//	reactivator:{R}:out:<n>          hash  line%64 -> the row's outcome record (compact, see encode), for lines
//	                                       64n to 64n+63, like the rows buckets; set once, first wins; "~"
//	                                       for a record longer than 64 bytes, kept in :outx
//	reactivator:{R}:outx             hash  line -> the outcome records too long for their bucket (store_rows.go)
//	reactivator:{R}:att              hash  line -> attempts*4 + flags (1 in flight, 2 ambiguous), line:s the
//	                                       start of the attempt in flight, line:a of the first ambiguous one
//	                                       (unix ms); only rows without an outcome: recording one deletes them
//	reactivator:{R}:budget           string the last reserved call slot of a run with its own rate (µs)
//	reactivator:{R}:minutes          hash  "<unix minute>:<calls|outcome|already_active>" -> count, for the
//	                                       dashboard's chart; expires timelineTTL after its last new minute (timeline.go)
//	reactivator:window:<provider>    zset  run id -> created (unix ms): runs whose rows the window still claims
//	reactivator:paused               hash  provider -> why its queue was paused (JSON)
//	reactivator:cooldown:<provider>  string set with an expiry while a 429 cool-down lasts
//	reactivator:{autorate:<p>}       string the rate --rate auto settled on (+ :up, :down guards)
//	reactivator:budget:<provider>    the last reserved call slot of the provider's global budget (µs)
//	reactivator:lock:<name>          string the token of the leader lock's holder, with an expiry (lock.go)
const keyPrefix = "reactivator:"

func runKey(id string) string { return keyPrefix + "{" + id + "}:run" }

func attKey(id string) string { return keyPrefix + "{" + id + "}:att" }

func autoRateKey(p Provider) string { return keyPrefix + "{autorate:" + string(p) + "}" }

const (
	runsKey   = keyPrefix + "runs"
	pausedKey = keyPrefix + "paused"
)

// ErrRunNotFound is returned for a run id the store does not know.
var ErrRunNotFound = errors.New("run not found")

// ErrRunPruning is returned for a run a prune began deleting and has not finished (Run.Pruning):
// part of its rows are gone, so it has no report and no undo.
var ErrRunPruning = errors.New("run is being pruned: some of its rows are deleted; `reactivator prune` finishes it")

// Store records runs and outcomes in Redis. It is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	now func() time.Time
	// budgetClock is the time of the rate budgets; nil means Redis's TIME, the one clock every
	// worker of the fleet shares (tests set their own).
	budgetClock clock.Clock
	// pruneBatchDone, when set, is called after each batch of a run's keys Prune deletes; an
	// error stops Prune there, as if its process died (tests).
	pruneBatchDone func(runID string) error
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
	// Grant, when the pause is for want of a role, names the role to grant (Result.Grant).
	Grant string `json:"grant,omitempty"`
}

// Fix says what to do before resuming: grant the role the pause names, or fix the cause.
func (p Pause) Fix() string {
	if p.Grant != "" {
		return "grant the service user " + p.Grant
	}
	return "fix the cause"
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

// runPrefix is the prefix of the keys of one run, hash tag included.
func runPrefix(id string) string { return keyPrefix + "{" + id + "}:" }
