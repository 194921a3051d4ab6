// This file is the cancel command: it stops a run, so that its rows not yet called end as
// cancelled while the calls in flight finish with their true outcome (internal/control).

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/control"
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
			rc, err := a.runsRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer a.closeRedis(rc)
			return control.Cancel(cmd.Context(), rc.Store, args[0], a.stdout)
		},
	}
}
