// This file holds the runs in the store: a run's record, its creation, reading it back, and the
// fields a run carries beside its counters.

package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

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
	// Action is what the run's calls do to each account: ActionReactivate, or ActionDeactivate
	// for an undo run.
	Action Action `json:"action"`
	// UndoOf is, for an undo run, the id of the run it undoes; "" otherwise.
	UndoOf string `json:"undo_of,omitempty"`
	// UndoneBy is the id of the undo run of this run, once `reactivator undo` created it.
	UndoneBy string `json:"undone_by,omitempty"`
	// Pruning is true once a prune began deleting the run's keys and has not finished: some of
	// its rows and outcomes may be gone, so it has no report; the next prune finishes it.
	Pruning bool `json:"pruning,omitempty"`
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
	action := ""
	if r.Action != "" && r.Action != ActionReactivate {
		action = string(r.Action)
	}
	n, err := createRunScript.Run(ctx, s.rdb, []string{runKey(r.ID)}, r.ID, string(r.Provider), r.File, string(cols), now.UnixMilli(), rate,
		action, r.UndoOf).Int()
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

// createRunScript creates a run's record unless one exists.
// KEYS[1] -> reactivator:{<run>}:run
// ARGV[1] -> run id, ARGV[2] -> provider, ARGV[3] -> file, ARGV[4] -> extra columns (JSON),
// ARGV[5] -> created at (unix ms), ARGV[6] -> the run's own rate limit, "" for none,
// ARGV[7] -> the run's action, "" for reactivate, ARGV[8] -> the run it undoes, "" for none
// Returns 1 when it created the run, 0 when the run existed.
var createRunScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], 'id', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'provider', ARGV[2], 'file', ARGV[3], 'columns', ARGV[4],
  'created_at', ARGV[5], 'total', -1, 'done', 0, 'max_line', 0)
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'rate_limit', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'action', ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'undo_of', ARGV[8]) end
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
		Action: Action(m["action"]), UndoOf: m["undo_of"], UndoneBy: m["undone_by"],
		Pruning: m["pruning"] == "1",
	}
	if r.Action == "" {
		r.Action = ActionReactivate
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
