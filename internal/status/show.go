// This file is the status use case: read the runs (or one), print them, and with Watch or Wait
// follow them until they finish.

package status

import (
	"context"
	"errors"
	"fmt"
	"io"

	"reactivator/internal/progress"
	"reactivator/internal/runwait"
	"reactivator/jobs"
)

// ResolveRun returns the id of the run arg names: the run of that id, or the one run whose id
// starts with it. An ambiguous prefix is an error that lists the runs it could name.
func ResolveRun(ctx context.Context, store *jobs.Store, arg string) (string, error) {
	id, err := store.ResolveRun(ctx, arg)
	if err != nil {
		if amb := (*jobs.AmbiguousRunError)(nil); errors.As(err, &amb) {
			return "", err
		}
		return "", UnknownRun(arg, err)
	}
	return id, nil
}

// Options say what Show shows and how.
type Options struct {
	// RunID is the one run shown (its id or a unique prefix); "" shows the runs.
	RunID string
	// Limit is how many of the newest runs are shown besides those in progress; 0 shows every run.
	Limit int
	// All shows every run, however many: Validate then sets Limit to 0.
	All bool
	// JSON prints the View's document (with Watch: one per line and refresh).
	JSON bool
	// Watch redraws every WatchInterval until the runs are finished or ctx ends.
	Watch bool
	// Wait blocks until the runs are finished and returns how they ended (runwait.Result.Err).
	Wait bool
	// Out gets the runs; Err gets the progress bar of Wait and notes.
	Out, Err io.Writer
	// OutTerminal and ErrTerminal say whether Out and Err are terminals.
	OutTerminal, ErrTerminal bool
}

// Validate checks the options as the status command gives them: Limit 1 or more (All, not 0,
// asks for every run). Its errors are bad command lines.
func (o *Options) Validate() error {
	if o.Limit < 1 {
		return fmt.Errorf("--limit %d: want 1 or more (--all shows every run)", o.Limit)
	}
	if o.All {
		o.Limit = 0
	}
	return nil
}

// Show prints the runs (or one), and with Watch or Wait follows them until they finish. With
// Wait, the error says how they ended, as runwait's do.
func Show(ctx context.Context, store *jobs.Store, o Options) error {
	if o.RunID != "" {
		id, err := ResolveRun(ctx, store, o.RunID)
		if err != nil {
			return err
		}
		o.RunID = id
	}
	v, err := Read(ctx, store, o.RunID, o.Limit)
	if err != nil {
		return err
	}
	ids := v.Unfinished()
	if o.RunID != "" {
		ids = []string{o.RunID}
	}
	if (!o.Watch && !o.Wait) || len(ids) == 0 {
		if err := v.Write(o.Out, o.RunID, o.JSON); err != nil {
			return err
		}
		if o.Wait && len(ids) == 0 {
			fmt.Fprintln(o.Err, "no run in progress: nothing to wait for")
		}
		return nil
	}
	wo := runwait.Options{StopOnPause: o.Wait}
	var bar *progress.Bar
	if o.Watch {
		w := &Watcher{W: o.Out, Store: store, RunID: o.RunID, Limit: o.Limit, JSON: o.JSON, Terminal: o.OutTerminal}
		wo.Interval, wo.Tick = WatchInterval, w.Tick(ctx)
	} else {
		bar = progress.New(o.Err, o.ErrTerminal, runwait.Label(ids), 0)
		wo.Tick = BarTicker(bar)
	}
	res, err := runwait.Wait(ctx, store, ids, wo)
	if bar != nil {
		bar.Finish()
	}
	switch {
	case err != nil:
		return err
	case res.Ending == runwait.Interrupted:
		return res.Err()
	}
	if !o.Watch {
		if v, err = Read(ctx, store, o.RunID, o.Limit); err != nil {
			return err
		}
		if err := v.Write(o.Out, o.RunID, o.JSON); err != nil {
			return err
		}
	}
	if !o.Wait {
		return nil
	}
	return res.Err()
}
