// This file is responsible for the words every view (CLI, web, reports) uses for a run's state,
// so that they say the same thing everywhere (what an outcome means to an operator, its tone, is
// row.go's).

package jobs

// Status is where a run stands, in the words the CLI, the dashboard and the reports all show.
type Status string

// The statuses of a run.
const (
	// StatusIngesting: the file is still being read and its rows queued.
	StatusIngesting Status = "ingesting"
	// StatusQueued: every row is queued, and no call has been made yet.
	StatusQueued Status = "queued"
	// StatusRunning: calls are being made; some rows still have no outcome.
	StatusRunning Status = "running"
	// StatusPaused: the run's provider is paused by a fatal answer; no row is called until
	// `reactivator resume PROVIDER`.
	StatusPaused Status = "paused"
	// StatusCancelling: the run was cancelled and rows in flight are still finishing.
	StatusCancelling Status = "cancelling"
	// StatusCancelled: the run was cancelled and every row has its outcome.
	StatusCancelled Status = "cancelled"
	// StatusFinished: every row has its outcome.
	StatusFinished Status = "finished"
	// StatusPruning: a prune began deleting the finished run and stopped before the end; some of
	// its rows are gone. The next prune (or a worker's janitor) finishes it.
	StatusPruning Status = "pruning"
)
