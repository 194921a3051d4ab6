// This file is the ingest command: it checks the credentials, then turns each CSV file into a run
// on the shared Redis and queues its rows, and with --wait blocks until the workers are done.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"reactivator/ingest"
	"reactivator/internal/oneshot"
	"reactivator/internal/providers"
	"reactivator/internal/runwait"
	"reactivator/internal/status"
	"reactivator/jobs"
)

// ingestFlags are the ingest command's own flags.
type ingestFlags struct {
	fileFlags
	dryRun, wait bool
	concurrency  int
}

func (a *app) ingestCmd() *cobra.Command {
	var pf providerFlags
	var f ingestFlags
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
			return a.ingest(cmd.Context(), &pf, f, files)
		},
	}
	fs := cmd.Flags()
	f.fileFlags.register(fs)
	_ = cmd.RegisterFlagCompletionFunc("provider", completeProvider)
	fs.BoolVar(&f.dryRun, "dry-run", false, "validate and print what would be queued; touch nothing (no Redis needed)")
	fs.BoolVar(&f.wait, "wait", false, "block until every run is finished; the exit code says how they ended")
	fs.IntVar(&f.concurrency, "concurrency", ingest.DefaultConcurrency, "how many batches of rows go to Redis per round trip")
	pf.register(fs)
	return cmd
}

func (a *app) ingest(ctx context.Context, pf *providerFlags, f ingestFlags, files []string) error {
	opts, err := f.options(len(files))
	if err != nil {
		return err
	}
	ps, err := a.providers(pf)
	if err != nil {
		return err
	}
	if !f.noCheck {
		if err := a.checkFilesProviders(ctx, ps, opts, files); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("%w: nothing was queued", err)
		}
	}

	cfg := ingest.Config{
		Options: opts, RunID: f.runID, NewRun: f.newRun, DryRun: f.dryRun,
		StytchEnv: ps.StytchEnv(), Concurrency: f.concurrency,
	}
	var rc *redisConn
	if !f.dryRun {
		if rc, err = a.connectRedis(ctx); err != nil {
			return err
		}
		defer rc.Close()
		cfg.Store = rc.store
		// Shares rc's connection; closing rc closes it.
		cfg.Enqueuer = asynq.NewClientFromRedisClient(rc.client)
	}

	var runIDs []string
	var refused []string
	for _, path := range files {
		res, err := oneshot.IngestFile(ctx, cfg, path, a.newBar)
		switch {
		case err == nil:
			a.printIngestResult(a.stdout, res)
			if !res.DryRun {
				runIDs = append(runIDs, res.RunID)
			}
		case ctx.Err() != nil:
			if res.RunID != "" {
				a.printIngestResult(a.stdout, res)
			}
			return interrupted(errors.New("interrupted: what was queued stays queued; the same command resumes"))
		default:
			var fe *ingest.FileError
			if errors.As(err, &fe) {
				fmt.Fprintf(a.stderr, "reactivator: refused %s: nothing was queued for it\n", err)
			} else {
				fmt.Fprintf(a.stderr, "reactivator: %s: %v\n", path, err)
				if res.RunID != "" {
					fmt.Fprintf(a.stderr, "  the rows queued so far stay queued; the same command resumes run %s\n", res.RunID)
				}
			}
			refused = append(refused, path)
		}
	}
	filesErr := error(nil)
	if len(refused) > 0 {
		filesErr = fmt.Errorf("%d of %d files not ingested: %s", len(refused), len(files), strings.Join(refused, ", "))
	}
	if !f.wait || len(runIDs) == 0 {
		return filesErr
	}

	fmt.Fprintf(a.stderr, "waiting for the workers to finish %s (Ctrl-C stops waiting; the runs go on)\n", runwait.Label(runIDs))
	bar := a.newBar(runwait.Label(runIDs), 0)
	res, err := runwait.Wait(ctx, rc.store, runIDs, runwait.Options{StopOnPause: true, Tick: status.BarTicker(bar)})
	bar.Finish()
	if err != nil {
		return err
	}
	switch res.Ending {
	case runwait.Interrupted, runwait.Paused:
		return res.Err()
	}
	if filesErr != nil {
		if werr := res.Err(); werr != nil {
			fmt.Fprintf(a.stderr, "reactivator: %s\n", werr)
		}
		return filesErr
	}
	return res.Err()
}

// options is fileFlags.options with ingest's own checks.
func (f ingestFlags) options(nFiles int) (ingest.Options, error) {
	o, err := f.fileFlags.options(nFiles)
	if err != nil {
		return o, err
	}
	switch {
	case f.dryRun && f.wait:
		return o, usageError("--dry-run queues nothing, so there is nothing to --wait for")
	case f.concurrency < 0:
		return o, usageError("--concurrency %d: want 1 or more", f.concurrency)
	}
	return o, nil
}

// checkFilesProviders checks the credentials of the providers the files hold. A provider this
// machine has no credentials for is skipped with a note. Files that cannot be read are left for
// the ingestion to refuse.
func (a *app) checkFilesProviders(ctx context.Context, ps providers.Set, opts ingest.Options, files []string) error {
	need := map[jobs.Provider]bool{}
	for _, path := range files {
		if p := fileProvider(path, opts); p != "" {
			need[p] = true
		}
	}
	have := map[jobs.Provider]bool{}
	for _, p := range ps.Configured() {
		have[p] = true
	}
	var check []jobs.Provider
	for _, p := range jobs.Providers {
		switch {
		case !need[p]:
		case have[p]:
			check = append(check, p)
		default:
			fmt.Fprintf(a.stderr, "%s: no credentials on this machine, not checked: the workers hold them\n", p)
		}
	}
	if len(check) == 0 {
		return nil
	}
	return providers.CheckTo(ctx, ps, check, a.stderr)
}

// fileProvider reads a file's header and returns its provider, "" when it cannot tell.
func fileProvider(path string, opts ingest.Options) jobs.Provider {
	if opts.Provider != "" {
		return opts.Provider
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return ""
	}
	fh, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer fh.Close()
	rd, err := ingest.NewReader(path, fh, opts)
	if err != nil {
		return ""
	}
	return rd.Provider()
}

// printIngestResult prints what ingesting one file did, and what to run next.
func (a *app) printIngestResult(w io.Writer, r ingest.Result) {
	if r.DryRun {
		fmt.Fprintf(w, "%s: dry run, nothing queued: would be run %s (%s)\n", r.File, r.RunID, r.Provider)
	} else {
		fmt.Fprintf(w, "%s: run %s (%s)\n", r.File, r.RunID, r.Provider)
	}
	queued := "queued"
	if r.DryRun {
		queued = "would queue"
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"rows read", r.Rows}, {queued, r.Queued}, {"already queued", r.AlreadyQueued}, {"already done", r.AlreadyDone},
		{"invalid", r.Invalid}, {"duplicate", r.Duplicate}} {
		fmt.Fprintf(w, "  %-15s %7d\n", c.name, c.n)
	}
	switch {
	case r.DryRun:
	case r.Resumed && r.Queued == 0:
		fmt.Fprintf(w, "  nothing new to queue: this file was ingested before as run %s\n", r.RunID)
	case r.Resumed:
		fmt.Fprintf(w, "  resumed run %s: queued the rows an earlier ingestion left\n", r.RunID)
	}
	if r.Invalid > 0 {
		if r.DryRun {
			fmt.Fprintf(w, "  the invalid rows will be in the report with their line and why\n")
		} else {
			fmt.Fprintf(w, "  invalid rows, with their line and why: reactivator report %s --failed-only\n", r.RunID)
		}
	}
	switch {
	case r.DryRun:
	case r.Finished:
		fmt.Fprintf(w, "  the run is finished: reactivator report %s\n", r.RunID)
	default:
		fmt.Fprintf(w, "  watch it: reactivator status %s --watch\n", r.RunID)
	}
}
