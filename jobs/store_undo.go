// This file holds undo runs: a run of its own that deactivates exactly the accounts another run
// recorded as reactivated (design: "undo RUN"), and the link between the two.

package jobs

import (
	"context"
	"errors"
	"fmt"
)

// Action is what a run's calls do to each of its accounts.
type Action string

// The actions of a run.
const (
	// ActionReactivate: the provider's reactivate call (every ingested run).
	ActionReactivate Action = "reactivate"
	// ActionDeactivate: ZITADEL's deactivate, Stytch's delete member (an undo run).
	ActionDeactivate Action = "deactivate"
)

// Done returns the outcome word of a row the action changed: "reactivated" or "deactivated".
func (a Action) Done() string {
	if a == ActionDeactivate {
		return string(Deactivated)
	}
	return string(Reactivated)
}

// UndoPrefix starts the id of every undo run: the undo of run R is run "undo-R".
const UndoPrefix = "undo-"

// UndoRunID returns the id of the undo run of run id.
func UndoRunID(id string) string { return UndoPrefix + id }

// The refusals of CreateUndoRun, besides ErrRunNotFound. Test for them with errors.Is.
var (
	// ErrRunNotFinished: the run still has rows without an outcome; undo it once it is finished.
	ErrRunNotFinished = errors.New("run not finished")
	// ErrUndoOfUndo: the run is itself an undo run, which is not undone in turn.
	ErrUndoOfUndo = errors.New("an undo run cannot be undone")
)

// undoBatch is how many rows CreateUndoRun adds per round trip.
const undoBatch = 1000

// CreateUndoRun creates the undo run of run id (UndoRunID), whose rows are the rows of id that
// ended reactivated (every reason, confirmed_on_retry and assumed_on_retry included), at their
// lines and with their input, and lists it in its provider's window. It refuses an unknown run
// (ErrRunNotFound), an undo run (ErrUndoOfUndo), a run still working (ErrRunNotFinished) and one
// being pruned (ErrRunPruning).
// When the undo run exists it is returned as it is (created false), its window opened again: undo
// of a run already undone resumes the same undo run. A creation that stopped halfway (its rows
// not all added) is completed; adding a row twice changes nothing.
func (s *Store) CreateUndoRun(ctx context.Context, id string) (Run, bool, error) {
	orig, err := s.Run(ctx, id)
	if err != nil {
		return Run{}, false, err
	}
	if orig.Pruning {
		return Run{}, false, fmt.Errorf("undo run %s: %w", orig.ID, ErrRunPruning)
	}
	if orig.UndoOf != "" || orig.Action == ActionDeactivate {
		return Run{}, false, fmt.Errorf("run %s undoes run %s: %w", orig.ID, orig.UndoOf, ErrUndoOfUndo)
	}
	uid := UndoRunID(orig.ID)
	undo, err := s.Run(ctx, uid)
	switch {
	case err == nil && undo.UndoOf != orig.ID:
		return Run{}, false, fmt.Errorf("run id %s is taken by a run that does not undo run %s", uid, orig.ID)
	case err == nil && undo.Total >= 0:
		if undo.State != RunFinished {
			if err := s.OpenWindow(ctx, undo.Provider, uid, undo.CreatedAt); err != nil {
				return Run{}, false, err
			}
		}
		return undo, false, nil
	case err != nil && !errors.Is(err, ErrRunNotFound):
		return Run{}, false, err
	}
	if orig.State != RunFinished {
		return Run{}, false, fmt.Errorf("run %s has %s rows without an outcome: %w", orig.ID, pendingText(orig), ErrRunNotFinished)
	}
	undo, created, err := s.CreateRun(ctx, Run{ID: uid, Provider: orig.Provider, File: orig.File, Columns: orig.Columns,
		Action: ActionDeactivate, UndoOf: orig.ID})
	if err != nil {
		return Run{}, false, err
	}
	if err := s.rdb.HSet(ctx, runKey(orig.ID), "undone_by", uid).Err(); err != nil {
		return Run{}, false, fmt.Errorf("link run %s to its undo: %w", orig.ID, err)
	}
	if err := s.OpenWindow(ctx, undo.Provider, uid, undo.CreatedAt); err != nil {
		return Run{}, false, err
	}
	n, err := s.copyReactivated(ctx, orig, uid)
	if err != nil {
		return Run{}, false, err
	}
	if _, err := s.SetTotal(ctx, uid, n); err != nil {
		return Run{}, false, err
	}
	undo, err = s.Run(ctx, uid)
	return undo, created, err
}

// copyReactivated adds the rows of orig that ended reactivated to run uid, a batch at a time, and
// returns how many there are. A row whose input holds no id (it cannot be called) is added as
// invalid, saying why.
func (s *Store) copyReactivated(ctx context.Context, orig Run, uid string) (int, error) {
	n := 0
	batch := make([]IngestRow, 0, undoBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := s.AddRows(ctx, uid, batch)
		batch = batch[:0]
		return err
	}
	err := s.EachRow(ctx, orig.ID, func(r ReportRow) error {
		if r.Pending || r.Outcome.Outcome != Reactivated {
			return nil
		}
		in := append([]string(nil), r.Input...)
		for len(in) < 3 {
			in = append(in, "")
		}
		if o := r.Outcome; o.ResolvedID != "" && in[1] == "" && in[2] == "" {
			// A row named by email or login name: undo the account its lookup found.
			if orig.Provider == Stytch {
				in[1] = o.ResolvedID
			} else {
				in[2] = o.ResolvedID
			}
			if in[0] == "" {
				in[0] = o.ResolvedOrg
			}
		}
		row := Row{Line: r.Line, Provider: orig.Provider, OrgID: in[0], MemberID: in[1], UserID: in[2]}
		ir := IngestRow{Row: row, Input: in}
		if err := row.Validate(); err != nil {
			ir.Invalid = fmt.Sprintf("line %d of run %s was reactivated but its ids cannot be called: %v", r.Line, orig.ID, err)
		}
		batch = append(batch, ir)
		n++
		if len(batch) == undoBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, fmt.Errorf("copy the reactivated rows of run %s: %w", orig.ID, err)
	}
	return n, nil
}

// pendingText is a run's number of rows without an outcome, "some" while it is ingesting.
func pendingText(r Run) string {
	if p := r.Pending(); p >= 0 {
		return fmt.Sprint(p)
	}
	return "some"
}
