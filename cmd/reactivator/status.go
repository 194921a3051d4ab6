// This file is the status command: the runs and their progress, paused providers, and waiting
// for runs to finish (internal/status, internal/runwait).

package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"reactivator/internal/progress"
	"reactivator/internal/runwait"
	"reactivator/internal/status"
)

// statusOptions are the status command's options.
type statusOptions struct {
	runID               string
	asJSON, watch, wait bool
	limit               int
	all                 bool
}

func (a *app) statusCmd() *cobra.Command {
	var o statusOptions
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
				o.runID = args[0]
			}
			return a.status(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "print JSON (with --watch: one JSON document per line and refresh)")
	f.BoolVar(&o.watch, "watch", false, "refresh every 2s until the runs are finished or Ctrl-C")
	f.BoolVar(&o.wait, "wait", false, "block until the run(s) are finished; the exit code says how they ended")
	f.IntVar(&o.limit, "limit", status.DefaultLimit, "show the newest N runs (and every run in progress)")
	f.BoolVar(&o.all, "all", false, "show every run, however many")
	return cmd
}

// status prints the runs (or one), and with --watch or --wait follows them until they finish.
func (a *app) status(ctx context.Context, o statusOptions) error {
	if o.limit < 1 {
		return usageError("--limit %d: want 1 or more (--all shows every run)", o.limit)
	}
	if o.all {
		o.limit = 0
	}
	rc, err := a.runsRedis(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if o.runID != "" {
		if o.runID, err = resolveRun(ctx, rc.store, o.runID); err != nil {
			return err
		}
	}
	v, err := status.Read(ctx, rc.store, o.runID, o.limit)
	if err != nil {
		return err
	}
	ids := v.Unfinished()
	if o.runID != "" {
		ids = []string{o.runID}
	}
	if (!o.watch && !o.wait) || len(ids) == 0 {
		if err := v.Write(a.stdout, o.runID, o.asJSON); err != nil {
			return err
		}
		if o.wait && len(ids) == 0 {
			fmt.Fprintln(a.stderr, "no run in progress: nothing to wait for")
		}
		return nil
	}
	wo := runwait.Options{StopOnPause: o.wait}
	var bar *progress.Bar
	if o.watch {
		w := &status.Watcher{W: a.stdout, Store: rc.store, RunID: o.runID, Limit: o.limit, JSON: o.asJSON, Terminal: a.isTerminal(a.stdout)}
		wo.Interval, wo.Tick = status.WatchInterval, w.Tick(ctx)
	} else {
		bar = a.newBar(runwait.Label(ids), 0)
		wo.Tick = status.BarTicker(bar)
	}
	res, err := runwait.Wait(ctx, rc.store, ids, wo)
	if bar != nil {
		bar.Finish()
	}
	switch {
	case err != nil:
		return err
	case res.Ending == runwait.Interrupted:
		return res.Err()
	}
	if !o.watch {
		if v, err = status.Read(ctx, rc.store, o.runID, o.limit); err != nil {
			return err
		}
		if err := v.Write(a.stdout, o.runID, o.asJSON); err != nil {
			return err
		}
	}
	if !o.wait {
		return nil
	}
	return res.Err()
}
