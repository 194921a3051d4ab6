// This file derives what a run's record says beyond its counters: its status word, the rows
// still pending, how far it got, its failures, its rate and how long the rest will take. Every
// view (CLI, dashboard, reports, waits) reads them here, so that they say the same thing.

package jobs

import "time"

// Status returns the run's status. providerPaused says whether the run's provider is paused
// (Store.Paused); a run with a note (the store's "held up" reason) counts as paused too.
func (r Run) Status(providerPaused bool) Status {
	switch {
	case r.Pruning:
		return StatusPruning
	case r.State == RunFinished && r.Cancelled:
		return StatusCancelled
	case r.State == RunFinished:
		return StatusFinished
	case r.Cancelled:
		return StatusCancelling
	case providerPaused || r.Note != "":
		return StatusPaused
	case r.State == RunIngesting:
		return StatusIngesting
	case r.FirstCallAt.IsZero() && r.Done == 0:
		return StatusQueued
	}
	return StatusRunning
}

// Pending returns the number of rows without an outcome yet, -1 while the run is ingesting.
func (r Run) Pending() int {
	if r.Total < 0 {
		return -1
	}
	return max(0, r.Total-r.Done)
}

// ETA returns how long the rows without an outcome will take at rate rows per second, 0 when
// none are left or the rate is unknown.
func (r Run) ETA(rate float64) time.Duration {
	p := r.Pending()
	if p <= 0 || rate <= 0 || r.State == RunFinished {
		return 0
	}
	return time.Duration(float64(p) / rate * float64(time.Second)).Round(time.Second)
}

// Percent returns the share of rows with an outcome, 0 to 100, rounded down; 0 while ingesting,
// 100 for a run without rows (none is left).
func (r Run) Percent() int {
	switch {
	case r.Total < 0:
		return 0
	case r.Total == 0:
		return 100
	}
	return min(100, r.Done*100/r.Total)
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

// Span returns how long the run has been working: from its first call to its last outcome, 0
// when unknown (no call yet, or no outcome after it).
func (r Run) Span() time.Duration {
	if r.FirstCallAt.IsZero() || !r.LastOutcomeAt.After(r.FirstCallAt) {
		return 0
	}
	return r.LastOutcomeAt.Sub(r.FirstCallAt)
}

// Rate returns rows per second over the run's Span, 0 when unknown.
func (r Run) Rate() float64 {
	d := r.Span()
	if d <= 0 {
		return 0
	}
	return float64(r.Done) / d.Seconds()
}
