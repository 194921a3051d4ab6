// This file is the cancel command: it stops a run, so that its rows not yet called end as
// cancelled while the calls in flight finish with their true outcome.

package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"reactivator/internal/status"
	"reactivator/jobs"
)

func (a *app) cancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel RUN",
		Short: "Stop a run: rows not yet called end as cancelled",
		Long: `cancel stops a run at once, for every worker: rows that were not called yet end with outcome
cancelled (their tasks are dropped when a worker reaches them), and no further row of the run is
called. Calls already in flight finish, and their rows keep the provider's answer, so the report
says exactly which accounts changed. A row whose earlier attempt may have reached the provider
(a timeout, say) says so in its message: check that account.

A cancelled run cannot be resumed by ingesting the file again; ingest --new-run starts afresh, and
the failed-only report (cancelled rows included) is valid input for ingest.`,
		Example: `  # stop a run that was started with the wrong file
  reactivator cancel stytch-3f2a9c1b7d4e

  # then see which rows were reactivated before it stopped
  reactivator report stytch-3f2a9c1b7d4e --format md`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeRun,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.cancel(cmd.Context(), args[0])
		},
	}
}

// cancel cancels run id and says what becomes of its rows.
func (a *app) cancel(ctx context.Context, id string) error {
	rc, err := a.runsRedis(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if id, err = resolveRun(ctx, rc.store, id); err != nil {
		return err
	}
	run, err := rc.store.Run(ctx, id)
	if err != nil {
		return status.UnknownRun(id, err)
	}
	if run.State == jobs.RunFinished {
		fmt.Fprintf(a.stdout, "run %s is already finished (%s): nothing to cancel\n", id, status.OrDash(status.CountsText(run.Counts)))
		return nil
	}
	n, finished, err := rc.store.Cancel(ctx, id)
	if err != nil {
		return err
	}
	after, err := rc.store.Run(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "cancelled run %s: %d rows will not be called (outcome cancelled)\n", id, n)
	switch {
	case finished || after.State == jobs.RunFinished:
		fmt.Fprintf(a.stdout, "the run is finished: reactivator report %s\n", id)
	case after.Total < 0:
		fmt.Fprintf(a.stdout, "the run is still being ingested: rows queued from now on end as cancelled too\n")
	default:
		fmt.Fprintf(a.stdout, "%d rows are in flight: they finish with their call's outcome; wait for them: reactivator status %s --wait\n", after.Pending(), id)
	}
	return nil
}
