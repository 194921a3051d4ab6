// Package enqueue queues CSV files as runs on a shared Redis for a fleet's workers, as `ingest`
// does: it checks the credentials of the files' providers first (Check), ingests each file as a
// run and says what it did (Files), and can wait until the workers have finished the runs.
package enqueue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hibiken/asynq"

	"reactivator/ingest"
	"reactivator/internal/config"
	"reactivator/internal/exitcode"
	"reactivator/internal/oneshot"
	"reactivator/internal/progress"
	"reactivator/internal/providers"
	"reactivator/internal/redisconn"
	"reactivator/internal/runwait"
	"reactivator/internal/status"
	"reactivator/jobs"
)

// Check checks the credentials of the providers the files hold, with opts as the reader's
// options, printing to w. A provider this machine has no credentials for is skipped with a note:
// the workers hold them. Files that cannot be read are left for the ingestion to refuse.
func Check(ctx context.Context, ps providers.Set, opts ingest.Options, files []string, w io.Writer) error {
	need := map[jobs.Provider]bool{}
	for _, path := range files {
		if p := fileProvider(path, opts); p != "" {
			need[p] = true
		}
	}
	var check []jobs.Provider
	for _, p := range jobs.Providers {
		switch {
		case !need[p]:
		case ps.Has(p):
			check = append(check, p)
		default:
			fmt.Fprintf(w, "%s: no credentials on this machine, not checked: the workers hold them\n", p)
		}
	}
	if len(check) == 0 {
		return nil
	}
	if err := providers.CheckTo(ctx, ps, check, w); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: nothing was queued", err)
	}
	return nil
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

// Options say how Files ingests and where it writes.
type Options struct {
	// Config ingests each file; its Store and Enqueuer are nil with DryRun.
	Config ingest.Config
	// Wait blocks until every run is finished, or a provider is paused, or ctx ends.
	Wait bool
	// Out gets what each file did; Err the refusals, notes and progress. Required.
	Out, Err io.Writer
	// NewBar makes a progress reporter on Err. Required.
	NewBar func(label string, total int) *progress.Bar
}

// Request is one `reactivator ingest`: the files and how to read them, the providers' settings,
// whether to check their credentials, and the shared Redis to queue on (not opened with
// Config.DryRun).
type Request struct {
	Options
	Files []string
	// Read says how to read the files and name their runs: Validate sets Config's Options, RunID
	// and NewRun from it.
	Read config.Files
	// Env reads the provider settings Providers (the flags) leave unset (providers.Load).
	Env       config.Env
	Providers providers.Flags
	NoCheck   bool
	Redis     redisconn.Options
}

// Validate checks r before anything is read, and sets Config from Read. Every error it returns
// is a bad command line (an *exitcode.UsageError).
func (r *Request) Validate() error {
	opts, err := r.Read.Options(len(r.Files))
	switch {
	case err != nil:
		return err
	case r.Config.DryRun && r.Wait:
		return exitcode.Usagef("--dry-run queues nothing, so there is nothing to --wait for")
	case r.Config.Concurrency < 0:
		return exitcode.Usagef("--concurrency %d: want 1 or more", r.Config.Concurrency)
	}
	r.Config.Options, r.Config.RunID, r.Config.NewRun = opts, r.Read.RunID, r.Read.NewRun
	return nil
}

// Run checks r (Validate), reads the providers' settings, checks the credentials of the files'
// providers (Check; not with NoCheck), connects to the shared Redis unless Config.DryRun, and
// queues the files (Files).
func Run(ctx context.Context, r Request) error {
	if err := r.Validate(); err != nil {
		return err
	}
	ps, err := providers.Load(r.Env, r.Providers)
	if err != nil {
		return err
	}
	if !r.NoCheck {
		if err := Check(ctx, ps, r.Config.Options, r.Files, r.Err); err != nil {
			return err
		}
	}
	o := r.Options
	o.Config.StytchEnv = ps.StytchEnv()
	if !o.Config.DryRun {
		c, err := redisconn.Open(ctx, r.Redis)
		if err != nil {
			return err
		}
		defer c.Close()
		// The enqueuer shares c's connection; closing c closes it.
		o.Config.Store, o.Config.Enqueuer = c.Store, asynq.NewClientFromRedisClient(c.Client)
	}
	return Files(ctx, o, r.Files)
}

// Files ingests each file as a run and prints what it did. A file that is refused does not stop
// the others; the error then counts the refused files. With Wait, the error says how the runs
// ended (runwait's kinds, jobs.ErrFatal); an interrupt is runwait.ErrInterrupted.
func Files(ctx context.Context, o Options, files []string) error {
	var runIDs, refused []string
	for _, path := range files {
		res, err := oneshot.IngestFile(ctx, o.Config, path, o.NewBar)
		switch {
		case err == nil:
			writeResult(o.Out, res)
			if !res.DryRun {
				runIDs = append(runIDs, res.RunID)
			}
		case ctx.Err() != nil:
			if res.RunID != "" {
				writeResult(o.Out, res)
			}
			return runwait.Mark(runwait.ErrInterrupted, errors.New("interrupted: what was queued stays queued; the same command resumes"))
		default:
			var fe *ingest.FileError
			if errors.As(err, &fe) {
				fmt.Fprintf(o.Err, "reactivator: refused %s: nothing was queued for it\n", err)
			} else {
				fmt.Fprintf(o.Err, "reactivator: %s: %v\n", path, err)
				if res.RunID != "" {
					fmt.Fprintf(o.Err, "  the rows queued so far stay queued; the same command resumes run %s\n", res.RunID)
				}
			}
			refused = append(refused, path)
		}
	}
	filesErr := error(nil)
	if len(refused) > 0 {
		filesErr = fmt.Errorf("%d of %d files not ingested: %s", len(refused), len(files), strings.Join(refused, ", "))
	}
	if !o.Wait || len(runIDs) == 0 {
		return filesErr
	}
	return wait(ctx, o, runIDs, filesErr)
}

// wait waits for the workers to finish runIDs; filesErr, the files refused, wins over a run's
// ending but an interrupt or a pause.
func wait(ctx context.Context, o Options, runIDs []string, filesErr error) error {
	fmt.Fprintf(o.Err, "waiting for the workers to finish %s (Ctrl-C stops waiting; the runs go on)\n", runwait.Label(runIDs))
	bar := o.NewBar(runwait.Label(runIDs), 0)
	res, err := runwait.Wait(ctx, o.Config.Store, runIDs, runwait.Options{StopOnPause: true, Tick: status.BarTicker(bar)})
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
			fmt.Fprintf(o.Err, "reactivator: %s\n", werr)
		}
		return filesErr
	}
	return res.Err()
}

// writeResult writes what ingesting one file did, and what to run next.
func writeResult(w io.Writer, r ingest.Result) {
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
