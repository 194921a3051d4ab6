// Package status reads what the status command shows, the runs with what their counters say and
// the paused providers, and renders it: a table of runs, one run in detail, live updates, or the
// documented JSON document of `status --json`.
package status

import (
	"context"
	"errors"
	"fmt"
	"time"

	"reactivator/internal/runwait"
	"reactivator/jobs"
)

// View is what status shows, and the document `status --json` prints: its field names and
// meanings are part of the program's interface, kept apart from how the store keeps a run.
type View struct {
	// Runs are the runs, newest first (or the one run asked for).
	Runs []Run `json:"runs"`
	// Paused are the paused providers (with one run asked for, only its provider's pause); an
	// empty list, never null.
	Paused []jobs.Pause `json:"paused"`
	// More is true when older finished runs were left out (status --limit; --all shows them).
	More bool `json:"more,omitempty"`
}

// Run is one run in a View.
type Run struct {
	// ID is the run's id: `reactivator report ID`, `status ID`, `cancel ID` take it.
	ID       string        `json:"id"`
	Provider jobs.Provider `json:"provider"`
	// File is the input file's name as ingested.
	File string `json:"file"`
	// State is ingesting, queued or finished (how the store keeps it).
	State jobs.RunState `json:"state"`
	// Status is the run's state in the words the dashboard and the reports use (jobs.Status).
	Status jobs.Status `json:"status"`
	// Cancelled is true once `reactivator cancel` stopped the run.
	Cancelled bool `json:"cancelled,omitempty"`
	// Paused is true while the run's provider is paused and the run is not finished.
	Paused bool `json:"paused,omitempty"`
	// Total is the number of input rows, -1 while the run is ingesting.
	Total int `json:"total"`
	// Done is the number of rows with an outcome.
	Done int `json:"done"`
	// Pending is the number of rows without an outcome, -1 while the run is ingesting.
	Pending int `json:"pending"`
	// Failures is the number of rows that ended as a permanent failure.
	Failures int `json:"failures"`
	// Counts are the rows per outcome.
	Counts map[jobs.Outcome]int `json:"counts"`
	// AlreadyActive counts the not_deactivated rows whose account was found active: not failures.
	AlreadyActive int `json:"already_active"`
	// Rate is rows per second between the first call and the last outcome, 0 when unknown.
	Rate float64 `json:"rate"`
	// RateLimit is the run's own cap of calls per second (a schedule's rate), 0 for none.
	RateLimit     float64   `json:"rate_limit,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	FirstCallAt   time.Time `json:"first_call_at,omitzero"`
	LastOutcomeAt time.Time `json:"last_outcome_at,omitzero"`
	FinishedAt    time.Time `json:"finished_at,omitzero"`
	// Note says something about the run an operator should know (why ingesting stopped, say).
	Note string `json:"note,omitempty"`
	// Action is what the run does to each account: reactivate, or deactivate (an undo run).
	Action jobs.Action `json:"action"`
	// UndoOf is, for an undo run, the id of the run it undoes.
	UndoOf string `json:"undo_of,omitempty"`
	// UndoneBy is the id of the undo run of this run, once `reactivator undo` created it.
	UndoneBy string `json:"undone_by,omitempty"`
	// Undone says how far the undo run of this run got (Read fills it); absent when the run
	// was not undone, or its undo run was pruned.
	Undone *Undone `json:"undone,omitempty"`
}

// Undone is how far the undo run of a run got.
type Undone struct {
	// Run is the undo run's id (undo-<run id>).
	Run string `json:"run"`
	// Status is the undo run's status (jobs.Status).
	Status jobs.Status `json:"status"`
	// Deactivated is how many accounts the undo deactivated; Total its rows (the run's
	// reactivated rows), -1 while it is being created.
	Deactivated int `json:"deactivated"`
	Total       int `json:"total"`
	// CreatedAt is when the undo was started; FinishedAt when its last row got its outcome.
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// UnknownRun is the error for a run id the store does not know (err is the store's), saying how
// to find run ids.
func UnknownRun(id string, err error) error {
	if errors.Is(err, jobs.ErrRunNotFound) {
		return unknownRunError{id: id}
	}
	return err
}

// unknownRunError says no run has the id, and is still jobs.ErrRunNotFound to errors.Is.
type unknownRunError struct{ id string }

func (e unknownRunError) Error() string {
	return fmt.Sprintf("no run %q: `reactivator status` lists the runs; ingest prints the id of each run it queues", e.id)
}

func (e unknownRunError) Unwrap() error { return jobs.ErrRunNotFound }

// RunOf is r as a View shows it; paused are the paused providers.
func RunOf(r jobs.Run, paused map[jobs.Provider]jobs.Pause) Run {
	_, p := paused[r.Provider]
	p = p && r.State != jobs.RunFinished
	if r.Action == "" {
		r.Action = jobs.ActionReactivate
	}
	return Run{
		ID: r.ID, Provider: r.Provider, File: r.File, State: r.State, Cancelled: r.Cancelled,
		Status: r.Status(p), Paused: p, Total: r.Total, Done: r.Done, Pending: r.Pending(),
		Failures: r.Failures(), Counts: r.Counts, AlreadyActive: r.AlreadyActive, Rate: r.Rate(), RateLimit: r.RateLimit,
		CreatedAt: r.CreatedAt, FirstCallAt: r.FirstCallAt, LastOutcomeAt: r.LastOutcomeAt,
		FinishedAt: r.FinishedAt, Note: r.Note, Action: r.Action, UndoOf: r.UndoOf, UndoneBy: r.UndoneBy,
	}
}

// UndoneOf is how far undo run u got, for the run it undoes.
func UndoneOf(u jobs.Run) *Undone {
	return &Undone{Run: u.ID, Status: u.Status(false), Deactivated: u.Counts[jobs.Deactivated], Total: u.Total,
		CreatedAt: u.CreatedAt, FinishedAt: u.FinishedAt}
}

// linkUndos fills Undone of the runs of v that were undone, reading their undo runs (one read
// each; a pruned undo run is left out).
func (v View) linkUndos(ctx context.Context, store *jobs.Store) error {
	for i, r := range v.Runs {
		if r.UndoneBy == "" {
			continue
		}
		u, err := store.Run(ctx, r.UndoneBy)
		switch {
		case errors.Is(err, jobs.ErrRunNotFound):
		case err != nil:
			return err
		default:
			v.Runs[i].Undone = UndoneOf(u)
		}
	}
	return nil
}

// Percent is the share of rows with an outcome (jobs.Run.Percent).
func (r Run) Percent() int { return jobs.Run{Total: r.Total, Done: r.Done}.Percent() }

// New builds the view of runs; with single (one run asked for), only the pause of the run's
// provider is kept.
func New(runs []jobs.Run, paused map[jobs.Provider]jobs.Pause, single bool) View {
	v := View{Runs: make([]Run, 0, len(runs)), Paused: []jobs.Pause{}}
	for _, r := range runs {
		v.Runs = append(v.Runs, RunOf(r, paused))
	}
	for _, p := range jobs.Providers {
		pp, ok := paused[p]
		if !ok || (single && (len(runs) == 0 || runs[0].Provider != p)) {
			continue
		}
		if pp.Provider == "" {
			pp.Provider = p
		}
		v.Paused = append(v.Paused, pp)
	}
	return v
}

// DefaultLimit is how many of the newest runs status shows unless told otherwise.
const DefaultLimit = 20

// Read reads the runs (or only runID) and the paused providers: the newest limit runs and every
// run in progress, however old; limit 0 reads every run, a page at a time.
func Read(ctx context.Context, store *jobs.Store, runID string, limit int) (View, error) {
	paused, err := store.Paused(ctx)
	if err != nil {
		return View{}, err
	}
	if runID != "" {
		r, err := store.Run(ctx, runID)
		if err != nil {
			return View{}, err
		}
		v := New([]jobs.Run{r}, paused, true)
		return v, v.linkUndos(ctx, store)
	}
	runs, more, err := List(ctx, store, limit)
	if err != nil {
		return View{}, err
	}
	v := New(runs, paused, false)
	v.More = more
	return v, v.linkUndos(ctx, store)
}

// List returns the newest limit runs, then the runs in progress older than those, newest first;
// more says whether older runs were left out. limit 0 lists every run.
func List(ctx context.Context, store *jobs.Store, limit int) (runs []jobs.Run, more bool, err error) {
	if limit <= 0 {
		err = store.EachRun(ctx, 500, func(r jobs.Run) error { runs = append(runs, r); return nil })
		return runs, false, err
	}
	page, err := store.ListRuns(ctx, jobs.ListOptions{Limit: limit})
	if err != nil {
		return nil, false, err
	}
	runs = page.Runs
	if page.Next == "" {
		return runs, false, nil
	}
	open, err := store.OpenRuns(ctx)
	if err != nil {
		return nil, false, err
	}
	shown := make(map[string]bool, len(runs))
	for _, r := range runs {
		shown[r.ID] = true
	}
	for _, r := range open {
		if !shown[r.ID] {
			runs = append(runs, r)
		}
	}
	return runs, true, nil
}

// Unfinished returns the ids of the runs that are not finished.
func (v View) Unfinished() []string {
	var ids []string
	for _, r := range v.Runs {
		if r.State != jobs.RunFinished {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// DoneOfTotal is "done/total", or "done/?" while the run is ingesting.
func DoneOfTotal(done, total int) string {
	if total < 0 {
		return fmt.Sprintf("%d/?", done)
	}
	return fmt.Sprintf("%d/%d", done, total)
}

// RateText is a rate of rows per second as status prints it: "12/s", "0.5/s", "-" when unknown.
func RateText(r float64) string {
	switch {
	case r <= 0:
		return "-"
	case r >= 10:
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.1f/s", r)
}

// TimeText is a time in the local zone to the second, "" for the zero time.
func TimeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// OrDash returns s, or "-" when s is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// CountsText is the rows per outcome, in report order: "reactivated 120, not_found 3".
func CountsText(counts map[jobs.Outcome]int) string { return runwait.CountsText(counts) }

// RunCountsText is a run's rows per outcome, with how many not_deactivated rows were already active.
func RunCountsText(r Run) string {
	return runwait.RunCountsText(jobs.Run{Counts: r.Counts, AlreadyActive: r.AlreadyActive})
}
