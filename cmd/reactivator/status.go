// This file is the status command: the runs and their progress, paused providers, and waiting
// for runs to finish (internal/status).

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/status"
)

func (a *app) statusCmd() *cobra.Command {
	var o status.Options
	cmd := &cobra.Command{
		Use:   "status [RUN]",
		Short: "Show runs and their progress, and paused providers",
		Long: `status lists the newest runs on the shared Redis (--limit, 20 by default, and every run in
progress; --all lists every run), newest first: provider, file, state, rows done of
the total, the rows per outcome, the rate, and when each started and finished. Providers whose
queue is paused by a fatal error (bad credentials, missing permission) are listed with the reason
and the command that resumes them. With RUN it shows that run in detail, with what to do about
each outcome.

--watch redraws every 2 seconds (plain lines when the output is not a terminal) until the runs
are finished or you press Ctrl-C. --wait blocks until the run is finished, then exits like run
and ingest --wait: 0 every row reactivated (or a duplicate of one), 3 finished with some rows not
reactivated, 4 a provider is paused by a fatal error, 130 interrupted (the runs go on). Without
RUN, --wait waits for the runs in progress, and exits 0 at once when there are none: name the run
in scripts.`,
		Example: `  # every run, and paused providers
  reactivator status

  # one run in detail, as JSON for a script
  reactivator status stytch-3f2a9c1b7d4e --json

  # follow a run until it is done
  reactivator status stytch-3f2a9c1b7d4e --watch

  # in CI: block until the run is done; the exit code says how it went
  reactivator status stytch-3f2a9c1b7d4e --wait && echo all reactivated`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeRun,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.RunID = args[0]
			}
			if err := o.Validate(); err != nil {
				return usage(err)
			}
			rc, err := a.runsRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer a.closeRedis(rc)
			o.Out, o.Err, o.OutTerminal, o.ErrTerminal = a.stdout, a.stderr, a.isTerminal(a.stdout), a.isTerminal(a.stderr)
			return status.Show(cmd.Context(), rc.Store, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.JSON, "json", false, "print JSON (with --watch: one JSON document per line and refresh)")
	f.BoolVar(&o.Watch, "watch", false, "refresh every 2s until the runs are finished or Ctrl-C")
	f.BoolVar(&o.Wait, "wait", false, "block until the run(s) are finished; the exit code says how they ended")
	f.IntVar(&o.Limit, "limit", status.DefaultLimit, "show the newest N runs (and every run in progress)")
	f.BoolVar(&o.All, "all", false, "show every run, however many")
	return cmd
}
