// This file holds the control queue's tasks: run:finished and inbox:pickup, their payloads and
// constructors. A row's own task, reactivate:<provider>, is in row.go.

package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"
)

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
