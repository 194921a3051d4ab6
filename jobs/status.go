// This file is responsible for the words every view (CLI, web, reports) uses for a run's state and
// for what an outcome means to an operator, so that they say the same thing everywhere.

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
)

// Tone is what a row's outcome means to an operator, for colours and for what counts as a
// failure: good (the account is active, as wanted), neutral (nothing to do) or bad (look at it).
type Tone string

// The tones of an outcome.
const (
	ToneGood    Tone = "ok"
	ToneNeutral Tone = "skip"
	ToneBad     Tone = "fail"
)

// ToneOf returns the tone of a row that ended with o for reason. A not_deactivated row whose
// account was found active (reason already_active) is good: the account is where the operator
// wants it; so is an undo's deactivated row.
func ToneOf(o Outcome, reason string) Tone {
	switch {
	case o == Reactivated, o == Deactivated:
		return ToneGood
	case o == NotDeactivated && reason == ReasonAlreadyActive:
		return ToneGood
	case !o.Permanent():
		return ToneNeutral
	}
	return ToneBad
}

// Failure reports whether a recorded outcome is one the operator has to look at: a permanent
// failure other than an account found already active. These are the rows of a failed-only report.
func (o OutcomeRecord) Failure() bool { return ToneOf(o.Outcome, o.Reason) == ToneBad }
