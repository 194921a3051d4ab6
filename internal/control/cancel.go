// This file cancels a run: its rows not yet called end as cancelled, while the calls in flight
// finish with their true outcome.

package control

import (
	"context"
	"fmt"
	"io"

	"reactivator/internal/status"
	"reactivator/jobs"
)

// Cancel cancels the run arg names (its id or a unique prefix) and tells out what becomes of
// its rows. A finished run is left as it is.
func Cancel(ctx context.Context, store *jobs.Store, arg string, out io.Writer) error {
	id, err := status.ResolveRun(ctx, store, arg)
	if err != nil {
		return err
	}
	run, err := store.Run(ctx, id)
	if err != nil {
		return status.UnknownRun(id, err)
	}
	if run.State == jobs.RunFinished {
		fmt.Fprintf(out, "run %s is already finished (%s): nothing to cancel\n", id, status.OrDash(status.CountsText(run.Counts)))
		return nil
	}
	n, finished, err := store.Cancel(ctx, id)
	if err != nil {
		return err
	}
	after, err := store.Run(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cancelled run %s: %d rows will not be called (outcome cancelled)\n", id, n)
	switch {
	case finished || after.State == jobs.RunFinished:
		fmt.Fprintf(out, "the run is finished: reactivator report %s\n", id)
	case after.Total < 0:
		fmt.Fprintf(out, "the run is still being ingested: rows queued from now on end as cancelled too\n")
	default:
		fmt.Fprintf(out, "%d rows are in flight: they finish with their call's outcome; wait for them: reactivator status %s --wait\n", after.Pending(), id)
	}
	return nil
}
