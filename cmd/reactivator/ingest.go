// This file is the ingest command: it checks the credentials, then turns each CSV file into a run
// on the shared Redis and queues its rows, and with --wait blocks until the workers are done
// (internal/enqueue).

package main

import (
	"github.com/spf13/cobra"

	"reactivator/ingest"
	"reactivator/internal/enqueue"
)

func (a *app) ingestCmd() *cobra.Command {
	var pf providerFlags
	var f fileFlags
	var r enqueue.Request
	cmd := &cobra.Command{
		Use:   "ingest FILE.csv...",
		Short: "Validate CSV files and queue their rows as runs on the shared Redis",
		Long: `ingest reads each CSV file, validates every row and queues one task per valid row on the
shared Redis (REDIS_URL), as one run per file; workers (reactivator worker) call the provider.
The provider is read from the header (organization_id and member_id: Stytch; user_id: ZITADEL)
unless --provider says. Bad rows never stop a run: they end as invalid, with their line and why,
in the report. A file that cannot be a CSV of either kind is refused with exit 1 and nothing is
queued for it; the other files still go.

A run's id is the provider plus a hash of the file, so ingesting the same file again resumes its
run and queues nothing already queued or done. --run names the run, --new-run starts a fresh one.

First the credentials of each file's provider are checked with a read-only call (exit 4 when
refused, nothing queued); when this machine has no credentials for the provider the check is
skipped with a note: the workers hold them. --no-check skips it.

With --wait, ingest blocks until every run is finished and exits like run: 0 every row reactivated
(or a duplicate of one), 3 some rows not reactivated, 4 a provider is paused by a fatal error,
130 interrupted (the runs go on).`,
		Example: `  # queue two files on the shared Redis, then watch
  export REDIS_URL=redis://redis:6379/0
  reactivator ingest members.csv users.csv
  reactivator status --watch

  # see what would be queued, without Redis
  reactivator ingest --dry-run members.csv

  # a semicolon file without a recognisable header: say what it holds; wait for the workers
  reactivator ingest --provider zitadel --delimiter ';' --wait users.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			r.Files, r.Read, r.NoCheck, r.Env, r.Providers, r.Redis = files, f.Files, f.noCheck, a.env, pf.Flags, a.sharedRedis()
			r.Out, r.Err, r.NewBar = a.stdout, a.stderr, a.newBar
			return enqueue.Run(cmd.Context(), r)
		},
	}
	fs := cmd.Flags()
	f.register(fs)
	_ = cmd.RegisterFlagCompletionFunc("provider", completeProvider)
	fs.BoolVar(&r.Config.DryRun, "dry-run", false, "validate and print what would be queued; touch nothing (no Redis needed)")
	fs.BoolVar(&r.Wait, "wait", false, "block until every run is finished; the exit code says how they ended")
	fs.IntVar(&r.Config.Concurrency, "concurrency", ingest.DefaultConcurrency, "how many batches of rows go to Redis per round trip")
	pf.register(fs)
	return cmd
}
