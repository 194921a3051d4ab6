// This file is responsible for the worker side of schedules: the inbox:pickup task handler and
// the report file written when a picked-up run finishes.

package schedule

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/ingest"
	"reactivator/internal/atomicfile"
	"reactivator/jobs"
	"reactivator/jobs/report"
)

// PickupHandler does inbox pick-ups: ProcessTask handles an inbox:pickup task by doing the
// pick-up (jobs.PickupSpec) the task carries. Zero values are the defaults named on each field.
type PickupHandler struct {
	// Ingest is how the picked-up files are ingested: Store and Enqueuer are required; each
	// pick-up's Provider and Rate take the place of Options.Provider and RunRate.
	Ingest ingest.Config
	// Logger gets a line per file; nil logs nothing.
	Logger *slog.Logger
	// StaleAfter is how long a file may sit in processing/ untouched before it counts as left by
	// a dead worker and is picked up again; 0 means DefaultStaleAfter. The worker ingesting a
	// file touches it every StaleAfter/4, so a long ingestion is not taken over.
	StaleAfter time.Duration
	// Now is the clock for Settle and StaleAfter; nil means time.Now.
	Now func() time.Time
}

// ProcessTask implements asynq.Handler. A task without an inbox is dropped (asynq.SkipRetry);
// an error that may pass (Redis unreachable) is returned for asynq to retry the task.
func (h *PickupHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := jobs.ParseInboxPickupPayload(t)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("schedule %s: %w: %w", p.Schedule, err, asynq.SkipRetry)
	}
	picked, err := h.Pickup(ctx, p)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", p.Schedule, err)
	}
	if h.Logger != nil && len(picked) > 0 {
		failed := 0
		for _, pk := range picked {
			if pk.Err != nil {
				failed++
			}
		}
		h.Logger.Info("inbox picked up", "schedule", p.Schedule, "inbox", p.Inbox, "files", len(picked), "refused", failed)
	}
	return nil
}

// ReportOnFinish returns a worker's OnRunFinished: it writes the CSV report of a run that a
// pick-up gave a report path (jobs.Run.Extra[ExtraReportPath]), and does nothing for other runs.
func ReportOnFinish(store *jobs.Store, log *slog.Logger) func(ctx context.Context, run jobs.Run) error {
	return func(ctx context.Context, run jobs.Run) error {
		path := run.Extra[ExtraReportPath]
		if path == "" {
			return nil
		}
		if err := WriteReportFile(ctx, store, run.ID, path); err != nil {
			return err
		}
		if log != nil {
			log.Info("report written", "run", run.ID, "path", path, "failures", run.Failures())
		}
		return nil
	}
}

// WriteReportFile writes the CSV report of run runID to path whole or not at all
// (internal/atomicfile), so a reader never sees half a report.
func WriteReportFile(ctx context.Context, store *jobs.Store, runID, path string) error {
	if err := atomicfile.MkdirAll(path); err != nil {
		return fmt.Errorf("report of run %s: %w", runID, err)
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := report.Write(ctx, w, store, runID, jobs.ReportOptions{Format: jobs.ReportCSV})
		return err
	})
	if err != nil {
		return fmt.Errorf("report of run %s: %w", runID, err)
	}
	return nil
}
