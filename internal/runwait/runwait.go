// Package runwait waits for runs to finish and says how they ended: every row reactivated, some
// rows not, stopped by a paused provider, or interrupted. It also names those endings as errors,
// so that a command turns them into its exit code in one place.
package runwait

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"reactivator/jobs"
)

// The kinds of error a wait (and the work it waits for) ends with, besides jobs.ErrFatal (a
// provider is paused by a fatal answer). Test for them with errors.Is.
var (
	// ErrNotAllReactivated: every run finished, and some rows were not reactivated.
	ErrNotAllReactivated = errors.New("some rows were not reactivated")
	// ErrInterrupted: stopped before the runs finished; their progress is kept.
	ErrInterrupted = errors.New("interrupted")
)

// kindError is an error of a kind (errors.Is(err, kind) holds) whose message is its own.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

// Mark returns err as an error of kind (ErrNotAllReactivated, ErrInterrupted, jobs.ErrFatal),
// with err's message unchanged.
func Mark(kind, err error) error { return &kindError{kind: kind, err: err} }

// Ending is how a wait ended.
type Ending int

// The endings of a wait.
const (
	// AllReactivated: every run finished, every row reactivated (or a duplicate, or already active).
	AllReactivated Ending = iota
	// NotAllReactivated: every run finished, some rows not reactivated.
	NotAllReactivated
	// Paused: the provider of an unfinished run is paused by a fatal answer (Options.StopOnPause).
	Paused
	// Interrupted: the context ended first.
	Interrupted
)

// Result is how a wait ended.
type Result struct {
	Ending Ending
	// Runs are the runs as last read.
	Runs []jobs.Run
	// Paused are the pauses that stopped the wait (Ending Paused).
	Paused []jobs.Pause
}

// Err is the result as an error: nil when every row was reactivated (or a duplicate), else an
// error of its kind saying what to do next.
func (r Result) Err() error {
	switch r.Ending {
	case Interrupted:
		return Mark(ErrInterrupted, errors.New("interrupted: the runs go on; `reactivator status` shows them"))
	case Paused:
		var parts []string
		for _, p := range r.Paused {
			parts = append(parts, fmt.Sprintf("%s is paused by a fatal error: %s; %s, then: reactivator resume %s", p.Provider, p.Reason, p.Fix(), p.Provider))
		}
		return Mark(jobs.ErrFatal, errors.New(strings.Join(parts, "\n")))
	case NotAllReactivated:
		var parts []string
		for _, r := range r.Runs {
			if n := r.Failures(); n > 0 {
				parts = append(parts, fmt.Sprintf("run %s: %d of %d rows not %s (%s); see them: reactivator report %s --failed-only",
					r.ID, n, r.Total, r.Action.Done(), RunCountsText(r), r.ID))
			}
		}
		return Mark(ErrNotAllReactivated, errors.New(strings.Join(parts, "\n")))
	}
	return nil
}

// RunCountsText is CountsText of a run, saying how many not_deactivated rows were already active
// (not failures): "reactivated 120, not_deactivated 5 (4 already active)".
func RunCountsText(r jobs.Run) string {
	var parts []string
	for _, o := range jobs.Outcomes {
		n := r.Counts[o]
		if n == 0 {
			continue
		}
		part := fmt.Sprintf("%s %d", o, n)
		if o == jobs.NotDeactivated && r.AlreadyActive > 0 {
			part += fmt.Sprintf(" (%d already active)", r.AlreadyActive)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// CountsText is the rows per outcome, in report order: "reactivated 120, not_found 3".
func CountsText(counts map[jobs.Outcome]int) string {
	var parts []string
	for _, o := range jobs.Outcomes {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	return strings.Join(parts, ", ")
}

// Label names the runs a wait is for: "run ID", or "N runs".
func Label(ids []string) string {
	if len(ids) == 1 {
		return "run " + ids[0]
	}
	return fmt.Sprintf("%d runs", len(ids))
}

// Options say how to wait.
type Options struct {
	// Interval is how often the runs are read; zero means DefaultInterval.
	Interval time.Duration
	// StopOnPause ends the wait when the provider of an unfinished run is paused.
	StopOnPause bool
	// Tick, when not nil, gets the runs and the pauses after each read.
	Tick func([]jobs.Run, map[jobs.Provider]jobs.Pause)
	// Held is, by run id, how many rows of the run were left unqueued on purpose (a canary,
	// `run --limit`): such a run counts as finished for the wait once every other row has its
	// outcome.
	Held map[string]int
}

// DefaultInterval is how often a wait reads the runs unless told otherwise.
const DefaultInterval = 500 * time.Millisecond

// maxReadFailures is how many reads in a row may fail (Redis restarting, say) before a wait gives up.
const maxReadFailures = 20

// Wait reads the runs of ids every interval until every run is finished, or, with StopOnPause,
// the provider of an unfinished run is paused, or ctx ends (Ending Interrupted, no error). The
// error is for a run that does not exist and for Redis failing too many reads in a row.
func Wait(ctx context.Context, store *jobs.Store, ids []string, o Options) (Result, error) {
	interval := o.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failures := 0
	var res Result
	for {
		runs, paused, err := readRuns(ctx, store, ids)
		switch {
		case ctx.Err() != nil:
			res.Ending = Interrupted
			return res, nil
		case errors.Is(err, jobs.ErrRunNotFound):
			return res, err
		case err != nil:
			if failures++; failures >= maxReadFailures {
				return res, fmt.Errorf("gave up waiting: %w", err)
			}
		default:
			failures = 0
			res.Runs = runs
			if o.Tick != nil {
				o.Tick(runs, paused)
			}
			if ending, done := finished(runs, o.Held); done {
				res.Ending = ending
				return res, nil
			}
			if o.StopOnPause {
				for _, p := range jobs.Providers {
					if pp, ok := paused[p]; ok && hasUnfinished(runs, p) {
						if pp.Provider == "" {
							pp.Provider = p
						}
						res.Paused = append(res.Paused, pp)
					}
				}
				if len(res.Paused) > 0 {
					res.Ending = Paused
					return res, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			res.Ending = Interrupted
			return res, nil
		case <-t.C:
		}
	}
}

func readRuns(ctx context.Context, store *jobs.Store, ids []string) ([]jobs.Run, map[jobs.Provider]jobs.Pause, error) {
	runs := make([]jobs.Run, 0, len(ids))
	for _, id := range ids {
		r, err := store.Run(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		runs = append(runs, r)
	}
	paused, err := store.Paused(ctx)
	return runs, paused, err
}

// finished returns, when every run is finished (or, for a run with held rows, every row but
// those has its outcome), AllReactivated or NotAllReactivated.
func finished(runs []jobs.Run, held map[string]int) (Ending, bool) {
	failed := false
	for _, r := range runs {
		p := r.Pending()
		canaryDone := held[r.ID] > 0 && p >= 0 && p <= held[r.ID]
		if r.State != jobs.RunFinished && !canaryDone {
			return 0, false
		}
		failed = failed || r.Failures() > 0
	}
	if failed {
		return NotAllReactivated, true
	}
	return AllReactivated, true
}

func hasUnfinished(runs []jobs.Run, p jobs.Provider) bool {
	for _, r := range runs {
		if r.Provider == p && r.State != jobs.RunFinished {
			return true
		}
	}
	return false
}
