// This file is the undo command (oneshot.Undo): it deactivates exactly the accounts a run reactivated, as a run
// of its own (undo-RUN), in this process or, on a shared Redis, by the workers.

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/oneshot"
)

// undoOptions are the undo command's argument and flags.
type undoOptions struct {
	run string
	serveFlags
	report string
	// yes skips the confirmation; wait (shared Redis) waits for the workers.
	yes, wait, noCheck, force bool
	stateDir                  string
	pf                        providerFlags
}

// Validate checks the options that need no Redis.
func (o undoOptions) Validate() error {
	if o.run == "" {
		return usageError("undo RUN: name the run to undo (reactivator status lists them)")
	}
	return nil
}

func (a *app) undoCmd() *cobra.Command {
	var o undoOptions
	cmd := &cobra.Command{
		Use:   "undo RUN",
		Short: "Deactivate exactly the accounts a run reactivated, as a run of its own",
		Long: `undo takes back a run: it deactivates exactly the accounts RUN recorded as reactivated
(confirmed_on_retry and assumed_on_retry included; not the already active rows, not the
failures), as a run of its own, undo-RUN, with everything a run has: the same queue and rate
limit, one recorded outcome per row, Ctrl-C, cancel and the fatal pause stop new calls at once,
a report, status and the dashboard. RUN may be a unique prefix of a run id.

ZITADEL users are deactivated (POST /v2/users/{id}/deactivate; v1 _deactivate). Stytch has no
deactivate: undo deletes the member, which reactivate reverses, but what a delete does to the
member's sessions, passwords and MFA is not documented by Stytch; the confirmation says so. A
member already deleted (by someone else since the run) is not_active, settled by a read of the
member, deleted ones included; a member that does not exist at all is not_found.

Outcomes: deactivated; not_active (the account was not active: nothing to do); not_found;
rejected; failed; cancelled. Only the last four are failures.

Without --redis or REDIS_URL undo works like run: it opens run's embedded Redis in the same state
directory (so it finds RUN), calls in this process, waits and writes undo-RUN.report.csv (or
--report PATH). With a shared Redis it queues undo-RUN for the workers; --wait waits for them.
Undoing a run again resumes (or reports) the same undo run; an undo run is not undone in turn.

On a terminal undo says what it will change (provider, base URL, environment, number of
accounts) and asks [y/N]; --yes skips the question; nothing is asked when stdin is not a
terminal.

Exit codes: 0 every row deactivated or not active; 3 some rows not deactivated; 4 a provider
refused the credentials or a permission; 130 interrupted (the same command resumes); 2 a bad
command line; 1 any other error, a RUN that does not exist or is still running included.`,
		Example: `  # take back a run (a one-shot run on this machine)
  reactivator undo zitadel-3f2a9c1b7d4e

  # without the question, by a unique prefix of the run id
  reactivator undo --yes zitadel-3f2a

  # on a shared Redis: queue the undo for the workers and wait for them
  REDIS_URL=redis://redis:6379/0 reactivator undo --wait stytch-8c01d5e2a9f3`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeRun,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.run = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			s, err := a.session(o.pf, o.serveFlags, cmd.Flags().Changed("rate"))
			if err != nil {
				return err
			}
			s.NoCheck, s.Yes, s.Force, s.Embed.StateDir = o.noCheck, o.yes, o.force, o.stateDir
			return oneshot.Undo(cmd.Context(), oneshot.UndoRequest{Session: s, Run: o.run, Report: o.report, Wait: o.wait})
		},
	}
	fs := cmd.Flags()
	o.serveFlags.register(fs)
	fs.StringVar(&o.report, "report", "", "where the undo run's report goes, when undo works it (default undo-RUN.report.csv)")
	fs.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation on a terminal")
	fs.BoolVar(&o.wait, "wait", false, "with a shared Redis: block until the workers finished the undo run")
	fs.BoolVar(&o.noCheck, "no-check", false, "skip the credentials check")
	fs.BoolVar(&o.force, "force", false, "overwrite an existing report (default: number the new one)")
	fs.StringVar(&o.stateDir, "state-dir", "", "directory of the embedded redis-server's state, as run's (env REACTIVATOR_STATE_DIR)")
	o.pf.register(fs)
	return cmd
}
