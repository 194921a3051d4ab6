// This file is the use case of `reactivator undo RUN`: find the run and say what its undo will
// change, check and ask, then create (or find again) the undo run and work it in this process, or
// leave it to the fleet's workers, and report.

package oneshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"reactivator/internal/providers"
	"reactivator/internal/runwait"
	"reactivator/internal/status"
	"reactivator/jobs"
	"reactivator/worker"
)

// UndoRequest is one `undo`: the run to take back and where its undo goes.
type UndoRequest struct {
	Session
	// Run is the run to undo: its id or a unique prefix.
	Run string
	// Report is UndoConfig's.
	Report string
	// Wait, on a shared Redis, waits until the fleet has finished the undo run.
	Wait bool
}

// Undo undoes r.Run: it opens the Redis (an embedded one works the undo in this process, a
// shared one leaves it to the fleet), plans the undo (PlanUndo; an unknown run is an error (exit 1), as for cancel, status and report),
// checks the provider's credentials (required when working in this process; else checked when
// present), asks (when Ask and not Yes, and there is something to undo), and hands it to
// Runner.Undo, whose errors it returns.
func Undo(ctx context.Context, r UndoRequest) error {
	ps, err := providers.Load(r.Env, r.Providers)
	if err != nil {
		return err
	}
	c, err := r.open(ctx)
	if err != nil {
		return err
	}
	defer r.close(c)
	plan, err := PlanUndo(ctx, c.Store, r.Run)
	if err != nil {
		return status.UnknownRun(r.Run, err)
	}
	p, local := plan.Run.Provider, c.Embedded() != nil
	if err := r.undoCheck(ctx, ps, p, local); err != nil {
		return err
	}
	change := Changes(ps, []Target{{Provider: p}})[0]
	if !r.Yes && plan.Accounts > 0 && r.Ask && !ConfirmUndo(r.In, r.Err, plan, change) {
		return errNotConfirmed
	}
	uc := UndoConfig{Plan: plan, Report: r.Report, Wait: r.Wait}
	if local {
		if uc.Server, err = r.server(ctx, c, false, ps, []jobs.Provider{p}); err != nil {
			return err
		}
	}
	return r.runner(c).Undo(ctx, uc)
}

// undoCheck checks the credentials of p before an undo: required when the undo calls from this
// process (local), checked when present on a shared Redis (the workers hold them).
func (s Session) undoCheck(ctx context.Context, ps providers.Set, p jobs.Provider, local bool) error {
	have := slices.Contains(ps.Configured(), p)
	if local && !have {
		return MissingCredentials(ps.Configured(), []Target{{File: "the run to undo", Provider: p}}, []jobs.Provider{p})
	}
	if s.NoCheck || !have {
		return nil
	}
	return s.check(ctx, ps, []jobs.Provider{p})
}

// UndoPlan is what the undo of a run will change.
type UndoPlan struct {
	// Run is the run to undo.
	Run jobs.Run
	// Undo is its undo run when one exists already (an earlier undo, finished or interrupted);
	// nil otherwise.
	Undo *jobs.Run
	// Accounts is how many accounts the undo will call: the rows Run recorded as reactivated, or,
	// when Undo exists, its rows without an outcome.
	Accounts int
}

// PlanUndo finds the run arg names (its id or a unique prefix) and what its undo will change,
// creating nothing. It refuses an unknown run (jobs.ErrRunNotFound; a prefix of several runs is a
// *jobs.AmbiguousRunError), an undo run (jobs.ErrUndoOfUndo) and a run that is not finished
// (jobs.ErrRunNotFinished), each with what to do instead.
func PlanUndo(ctx context.Context, store *jobs.Store, arg string) (UndoPlan, error) {
	id, err := store.ResolveRun(ctx, arg)
	if err != nil {
		return UndoPlan{}, err
	}
	run, err := store.Run(ctx, id)
	if err != nil {
		return UndoPlan{}, err
	}
	if run.UndoOf != "" || run.Action == jobs.ActionDeactivate {
		return UndoPlan{}, fmt.Errorf("run %s is the undo of run %s, and %w: to restore those accounts, reactivate them with run or ingest", run.ID, run.UndoOf, jobs.ErrUndoOfUndo)
	}
	p := UndoPlan{Run: run, Accounts: run.Counts[jobs.Reactivated]}
	u, err := store.Run(ctx, jobs.UndoRunID(run.ID))
	switch {
	case err == nil:
		p.Undo, p.Accounts = &u, max(0, u.Pending())
		return p, nil
	case !errors.Is(err, jobs.ErrRunNotFound):
		return UndoPlan{}, err
	case run.State != jobs.RunFinished:
		return UndoPlan{}, fmt.Errorf("%w: run %s is still running (%d of %s rows have an outcome): wait for it (reactivator status %s --wait) or cancel it (reactivator cancel %s), then undo it",
			jobs.ErrRunNotFinished, run.ID, run.Done, totalText(run), run.ID, run.ID)
	}
	return p, nil
}

func totalText(r jobs.Run) string {
	if r.Total < 0 {
		return "?"
	}
	return fmt.Sprint(r.Total)
}

// UndoNotes are the notes the confirmation of an undo adds for provider p: what a Stytch delete
// does beyond the member's status is not documented.
func UndoNotes(p jobs.Provider) []string {
	if p != jobs.Stytch {
		return nil
	}
	return []string{"Stytch undoes a reactivation by deleting the member (a soft delete that reactivate reverses); what a delete does to the member's sessions, passwords and MFA is not documented by Stytch: expect them to be gone"}
}

// ConfirmUndo asks on out whether to deactivate the accounts of plan, c saying where (provider,
// base URL, environment), and reads the answer from in (Confirm).
func ConfirmUndo(in io.Reader, out io.Writer, plan UndoPlan, c Change) bool {
	c.File, c.Provider, c.Rows = "undo of run "+plan.Run.ID, plan.Run.Provider, plan.Accounts
	return Confirm(in, out, "deactivate", []Change{c}, 0, UndoNotes(plan.Run.Provider))
}

// UndoConfig is one undo.
type UndoConfig struct {
	// Plan is PlanUndo's.
	Plan UndoPlan
	// Report is where the undo run's report goes when it is worked in this process; "" means
	// <undo run id>.report.csv in the working directory.
	Report string
	// Server, when not nil, works the undo run in this process (the one-shot undo); nil leaves
	// it to the fleet's workers.
	Server *worker.Server
	// Wait, without a Server, waits until the fleet has finished the undo run.
	Wait bool
}

// Undo creates the undo run of c.Plan (jobs.Store.CreateUndoRun: an existing one is resumed),
// then works it to the end with c.Server and writes its report, or leaves it to the fleet (and
// with c.Wait waits for it). Errors are of the kinds of Run: runwait's, or jobs.ErrFatal.
func (r *Runner) Undo(ctx context.Context, c UndoConfig) error {
	var w *Worker
	if c.Server != nil {
		w = StartWorker(ctx, c.Server)
		defer w.Stop()
	}
	undo, created, err := r.Store.CreateUndoRun(ctx, c.Plan.Run.ID)
	if err != nil {
		if w != nil && ctx.Err() != nil {
			return r.interrupted(w)
		}
		return err
	}
	if created {
		fmt.Fprintf(r.Err, "run %s: undo run %s (%s): %d rows to deactivate\n", c.Plan.Run.ID, undo.ID, undo.Provider, undo.Total)
	} else {
		fmt.Fprintf(r.Err, "run %s was undone before: undo run %s (%s), %d of %d rows have an outcome\n", c.Plan.Run.ID, undo.ID, undo.Provider, undo.Done, undo.Total)
	}
	if w == nil {
		return r.undoByFleet(ctx, undo.ID, c.Wait)
	}
	report := c.Report
	if report == "" {
		report = undo.ID + ".report.csv"
	}
	t := Target{File: "undo of run " + c.Plan.Run.ID, Provider: undo.Provider, Report: report, Action: jobs.ActionDeactivate}
	return r.finish(ctx, w, []string{undo.ID}, map[string]Target{undo.ID: t})
}

// undoByFleet leaves undo run id to the workers, and with wait waits for them as ingest --wait does.
func (r *Runner) undoByFleet(ctx context.Context, id string, wait bool) error {
	if !wait {
		fmt.Fprintf(r.Out, "undo run %s is queued for the workers: reactivator status %s --watch\n", id, id)
		return nil
	}
	fmt.Fprintf(r.Err, "waiting for the workers to finish run %s (Ctrl-C stops waiting; the run goes on)\n", id)
	res, err := r.Wait(ctx, []string{id}, true)
	if err != nil {
		return err
	}
	if res.Err() == nil && len(res.Runs) == 1 {
		fmt.Fprintf(r.Out, "undo run %s finished: %s\n", id, runwait.RunCountsText(res.Runs[0]))
	}
	return res.Err()
}
