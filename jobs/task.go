// This file holds the task contract: payloads, their constructors and deterministic task ids.

package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"
)

// TaskMaxRetry is asynq's retry limit of a reactivate task. It is deliberately out of reach: the
// worker ends a row as failed itself after its --max-attempts and past its --max-row-age, counting
// attempts in the run store, so one setting governs every task however it was queued.
const TaskMaxRetry = 100000

// TaskTimeout bounds one handling of a reactivate task (asynq's default is 30 minutes). It covers
// waiting for the rate budget and the call itself; a call has its own, shorter timeout.
const TaskTimeout = 3 * time.Minute

// ReactivatePayload is the payload of a reactivate:stytch or reactivate:zitadel task.
// It carries ids only: never a credential.
type ReactivatePayload struct {
	RunID    string `json:"r"`
	Line     int    `json:"l"`
	OrgID    string `json:"o,omitempty"`
	MemberID string `json:"m,omitempty"`
	UserID   string `json:"u,omitempty"`
	// Lookup and LookupValue name the account of a row without an id (Row.Lookup).
	Lookup      Lookup `json:"k,omitempty"`
	LookupValue string `json:"v,omitempty"`
	// QueuedAt is when the row entered its provider's window (unix seconds); a row older than the
	// max row age ends failed.
	QueuedAt int64 `json:"t"`
	// QueuedAtMs is QueuedAt in unix milliseconds; 0 in tasks queued before it existed.
	QueuedAtMs int64 `json:"tm,omitempty"`
}

// Queued returns when the row entered its provider's window, to the millisecond when the task
// says.
func (p ReactivatePayload) Queued() time.Time {
	if p.QueuedAtMs > 0 {
		return time.UnixMilli(p.QueuedAtMs)
	}
	return time.Unix(p.QueuedAt, 0)
}

// Row returns the row the payload stands for.
func (p ReactivatePayload) Row(provider Provider) Row {
	return Row{Line: p.Line, Provider: provider, OrgID: p.OrgID, MemberID: p.MemberID, UserID: p.UserID,
		Lookup: p.Lookup, LookupValue: p.LookupValue}
}

// TaskID returns the asynq task id of a run's row: "<run id>:<row key>". It is scoped to the run
// because asynq refuses a task id while an old task with it exists, archived ones included.
func TaskID(runID string, r Row) string { return runID + ":" + r.Key() }

// NewReactivateTask returns the task that reactivates row r of run runID, with its task id and
// queue; queuedAt is when the row entered the window, where its age starts.
func NewReactivateTask(runID string, r Row, queuedAt time.Time, opts ...asynq.Option) (*asynq.Task, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(ReactivatePayload{RunID: runID, Line: r.Line, OrgID: r.OrgID, MemberID: r.MemberID, UserID: r.UserID,
		Lookup: r.Lookup, LookupValue: r.LookupValue, QueuedAt: queuedAt.Unix(), QueuedAtMs: queuedAt.UnixMilli()})
	if err != nil {
		return nil, err
	}
	opts = append([]asynq.Option{asynq.TaskID(TaskID(runID, r)), asynq.Queue(r.Provider.Queue()),
		asynq.MaxRetry(TaskMaxRetry), asynq.Timeout(TaskTimeout)}, opts...)
	return asynq.NewTask(r.Provider.TaskType(), b, opts...), nil
}

// ParseReactivatePayload decodes a reactivate task's payload and returns its row.
func ParseReactivatePayload(t *asynq.Task) (ReactivatePayload, Row, error) {
	var p ReactivatePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, Row{}, fmt.Errorf("decode %s payload: %w", t.Type(), err)
	}
	var prov Provider
	switch t.Type() {
	case TypeReactivateStytch:
		prov = Stytch
	case TypeReactivateZitadel:
		prov = Zitadel
	default:
		return p, Row{}, fmt.Errorf("task type %q is not a reactivate task", t.Type())
	}
	if p.RunID == "" || p.Line < 2 {
		return p, Row{}, fmt.Errorf("decode %s payload: run id or line missing", t.Type())
	}
	return p, p.Row(prov), nil
}

// RunFinishedPayload is the payload of a run:finished task.
type RunFinishedPayload struct {
	RunID string `json:"run_id"`
}

// NewRunFinishedTask returns the run:finished task of a run; its task id makes it unique per run.
func NewRunFinishedTask(runID string) *asynq.Task {
	b, _ := json.Marshal(RunFinishedPayload{RunID: runID})
	return asynq.NewTask(TypeRunFinished, b, asynq.TaskID("finished:"+runID), asynq.Queue(QueueControl), asynq.MaxRetry(5))
}

// ParseRunFinishedPayload decodes a run:finished payload.
func ParseRunFinishedPayload(t *asynq.Task) (RunFinishedPayload, error) {
	var p RunFinishedPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.RunID == "" {
		return p, fmt.Errorf("decode %s payload: %v", t.Type(), err)
	}
	return p, nil
}

// PickupSpec is one inbox pick-up: which files of which inbox to ingest, how, and where their
// reports go. It is the one description of a pick-up: each schedule of the schedules file holds
// one (internal/schedule), the inbox:pickup task carries it as its payload, so a worker needs no
// copy of the schedules file, and schedule.PickupHandler does what it says. Zero values are the
// defaults named on each field.
type PickupSpec struct {
	// Schedule names the schedule, in the runs' extras and in logs. Required in a task.
	Schedule string `json:"schedule"`
	// Inbox is the directory to read; only files directly in it are picked up. Required.
	Inbox string `json:"inbox,omitempty"`
	// Pattern selects files by base name (filepath.Match syntax); "" means "*.csv". Hidden files
	// (".x.csv", as rsync and many uploaders name a file being written) are never picked up.
	Pattern string `json:"pattern,omitempty"`
	// Provider is the provider of the files' rows; "" reads it from each file's header.
	Provider Provider `json:"provider,omitempty"`
	// Rate caps each new run's calls per second (Run.RateLimit), under the provider's limit; 0
	// leaves only the provider's limit.
	Rate float64 `json:"rate,omitempty"`
	// Reports is the directory of finished runs' reports, <Reports>/<run id>.report.csv; ""
	// writes none.
	Reports string `json:"reports,omitempty"`
	// Settle leaves files modified less than this long ago for a later pick-up, so a file still
	// being copied in is not read half-written; 0 picks every file up at once.
	Settle time.Duration `json:"settle,omitempty"`
}

// FilePattern returns Pattern, or its default "*.csv".
func (s PickupSpec) FilePattern() string {
	if s.Pattern == "" {
		return "*.csv"
	}
	return s.Pattern
}

// Validate says which field is wrong.
func (s PickupSpec) Validate() error {
	if s.Inbox == "" {
		return errors.New("pickup: Inbox is required")
	}
	if _, err := filepath.Match(s.FilePattern(), "x"); err != nil {
		return fmt.Errorf("pickup: Pattern %q: %w", s.Pattern, err)
	}
	if s.Provider != "" {
		if _, err := ParseProvider(string(s.Provider)); err != nil {
			return fmt.Errorf("pickup: Provider: %w", err)
		}
	}
	if s.Settle < 0 || s.Rate < 0 {
		return errors.New("pickup: Settle and Rate must not be negative")
	}
	return nil
}

// NewInboxPickupTask returns the inbox:pickup task carrying s, on the control queue; opts
// (asynq.Unique, say) come after the defaults.
func NewInboxPickupTask(s PickupSpec, opts ...asynq.Option) (*asynq.Task, error) {
	if s.Schedule == "" || s.Inbox == "" {
		return nil, fmt.Errorf("inbox:pickup task: schedule and inbox are required")
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("inbox:pickup task of %s: %w", s.Schedule, err)
	}
	opts = append([]asynq.Option{asynq.Queue(QueueControl), asynq.MaxRetry(3)}, opts...)
	return asynq.NewTask(TypeInboxPickup, b, opts...), nil
}

// ParseInboxPickupPayload decodes an inbox:pickup payload into the pick-up it asks for.
func ParseInboxPickupPayload(t *asynq.Task) (PickupSpec, error) {
	var s PickupSpec
	if err := json.Unmarshal(t.Payload(), &s); err != nil || s.Schedule == "" {
		return s, fmt.Errorf("decode %s payload: %v", t.Type(), err)
	}
	return s, nil
}
