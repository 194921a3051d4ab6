// This file is the run command, the one-shot path from CSV files to reports: check the
// credentials, ingest each file as a run, work its rows in this process, wait, write the reports.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"reactivator/ingest"
	"reactivator/internal/runwait"
	"reactivator/internal/status"
	"reactivator/jobs"
	"reactivator/worker"
)

// runFlags are the run command's own flags.
type runFlags struct {
	fileFlags
	serveFlags
	report string
	embed  embedOptions
}

func (a *app) runCmd() *cobra.Command {
	var pf providerFlags
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE.csv...",
		Short: "Reactivate the accounts of CSV files in one go: check, queue, call, wait, report",
		Long: `run does everything in one process: it checks the credentials of each file's provider with a
read-only call (exit 4 when refused, nothing called), queues each file as a run, calls the
provider for every row at the rate limit with retries, waits until every row has its outcome,
and writes each run's report.

Without --redis or REDIS_URL it keeps its queue in a private redis-server whose state lives in
~/.local/state/reactivator/redis (or --state-dir, REACTIVATOR_STATE_DIR): press Ctrl-C and the
calls in flight finish, the progress is kept, and the same command resumes where it stopped,
calling no account twice. Without redis-server installed it uses an in-process Redis, and says
so: such a run cannot resume.

The report of FILE.csv goes to FILE.csv.report.csv in the working directory, or --report PATH
(with several files, --report names a directory). Rows that were not reactivated also go to
FILE.csv.failed.csv: fix them and feed that file to run again.

Exit codes: 0 every row reactivated (or a duplicate of one); 3 finished, some rows not
reactivated; 4 a provider refused the credentials or a permission (fix it, then run the same
command again); 130 interrupted (the same command resumes); 1 any other error; 2 a bad command
line.`,
		Example: `  # reactivate ZITADEL users; writes users.csv.report.csv
  export ZITADEL_URL=https://acme.zitadel.cloud ZITADEL_TOKEN_FILE=~/.zitadel-pat
  reactivator run users.csv

  # two Stytch files at 20 requests/s, reports into reports/
  export STYTCH_PROJECT_ID=project-live-... STYTCH_SECRET_FILE=~/.stytch-secret
  reactivator run --rate stytch=20 --report reports/ eu.csv us.csv

  # retry the rows that were not reactivated, once fixed
  reactivator run users.csv.failed.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			return a.runFiles(cmd.Context(), &pf, f, cmd.Flags().Changed("rate"), files)
		},
	}
	fs := cmd.Flags()
	f.fileFlags.register(fs)
	f.serveFlags.register(fs)
	fs.StringVar(&f.report, "report", "", "where the report goes (default FILE.csv.report.csv; with several files, a directory)")
	fs.StringVar(&f.embed.stateDir, "state-dir", "", "directory of the embedded redis-server's state (env REACTIVATOR_STATE_DIR; default ~/.local/state/reactivator/redis)")
	fs.BoolVar(&f.embed.inProcess, "in-process-redis", false, "use the in-process Redis even when redis-server is installed (an interrupted run cannot resume)")
	_ = fs.MarkHidden("in-process-redis")
	pf.register(fs)
	return cmd
}

// runTarget is one input file and where its report goes.
type runTarget struct {
	file     string
	provider jobs.Provider
	report   string
}

func (a *app) runFiles(ctx context.Context, pf *providerFlags, f runFlags, rateFromFlag bool, files []string) error {
	opts, err := f.fileFlags.options(len(files))
	if err != nil {
		return err
	}
	limits, err := a.limits(f.serveFlags, rateFromFlag)
	if err != nil {
		return err
	}
	targets, err := reportTargets(files, f.report)
	if err != nil {
		return err
	}

	// The files first: one that cannot be a CSV of either kind stops everything before a call.
	need := map[jobs.Provider]bool{}
	for i := range targets {
		p, err := checkRunFile(targets[i].file, opts)
		if err != nil {
			return fmt.Errorf("%w: nothing was called", err)
		}
		targets[i].provider = p
		need[p] = true
	}
	ps, err := a.providers(pf)
	if err != nil {
		return err
	}
	var providers []jobs.Provider
	for _, p := range jobs.Providers {
		if need[p] {
			providers = append(providers, p)
		}
	}
	if err := missingCredentials(ps, targets, providers); err != nil {
		return err
	}
	if !f.noCheck {
		if err := a.checkProviders(ctx, ps, providers, a.stderr); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("%w: nothing was called", err)
		}
	}
	all, err := ps.callers(ctx)
	if err != nil {
		return err
	}
	callers := map[jobs.Provider]worker.Caller{}
	for _, p := range providers {
		callers[p] = all[p]
	}

	rc, emb, err := a.oneShotRedis(ctx, f.embed, a.stderr)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(errors.New("interrupted before anything was queued"))
		}
		return err
	}
	defer a.closeEmbedded(emb)
	defer rc.Close()
	inProcess := emb != nil && emb.InProcess()

	if err := a.resumePaused(ctx, rc, providers, f.noCheck); err != nil {
		return err
	}

	srv, err := worker.New(worker.Config{
		Redis: rc.opt, Store: rc.store, Callers: callers, Limits: limits,
		Concurrency: f.concurrency, MaxAttempts: f.maxAttempts, MaxRowAge: f.maxRowAge,
		ShutdownTimeout: f.shutdownTimeout, Logger: a.quietLogger(),
		// On a shared Redis the run:finished tasks belong to its workers and scheduler.
		NoControl: emb == nil,
	})
	if err != nil {
		return err
	}
	w := startWorker(ctx, srv)
	defer w.stop()

	ids, byRun, err := a.ingestTargets(ctx, rc, opts, f.runID, f.newRun, ps.stytchEnv(), targets)
	if err != nil {
		if ctx.Err() != nil {
			return a.interrupted(w, f.shutdownTimeout, inProcess)
		}
		return err
	}

	bar := a.newBar(runwait.Label(ids), 0)
	res, err := runwait.Wait(w.ctx, rc.store, ids, runwait.Options{StopOnPause: true, Tick: status.BarTicker(bar)})
	bar.Finish()
	if ctx.Err() != nil {
		return a.interrupted(w, f.shutdownTimeout, inProcess)
	}
	if werr := w.stop(); werr != nil {
		return fmt.Errorf("worker: %w", werr)
	}
	switch {
	case err != nil:
		return err
	case res.Ending == runwait.Paused:
		return fatalStop(res.Paused, inProcess)
	case res.Ending == runwait.Interrupted:
		return errors.New("the worker stopped before the runs finished; the same command resumes them")
	}
	return a.writeRunReports(ctx, rc.store, ids, byRun, emb == nil)
}

// reportTargets pairs each file with its report path: FILE.report.csv in the working directory,
// or --report (a file for one input, a directory for several).
func reportTargets(files []string, report string) ([]runTarget, error) {
	dir := ""
	switch {
	case report == "":
	case len(files) > 1:
		if st, err := os.Stat(report); err == nil && !st.IsDir() {
			return nil, usageError("--report %s is a file: with several input files --report names a directory, where each run's report goes", report)
		}
		dir = report
	default:
		if st, err := os.Stat(report); err == nil && st.IsDir() {
			dir = report
		}
	}
	t := make([]runTarget, len(files))
	for i, f := range files {
		t[i].file = f
		switch {
		case report != "" && dir == "":
			t[i].report = report
		default:
			t[i].report = filepath.Join(dir, filepath.Base(f)+".report.csv")
		}
	}
	return t, nil
}

// checkRunFile refuses a file that cannot be a CSV of either kind and returns its provider.
func checkRunFile(path string, opts ingest.Options) (jobs.Provider, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%s: no such file", path)
	case err != nil:
		return "", fmt.Errorf("%s: %w", path, err)
	case !st.Mode().IsRegular():
		return "", fmt.Errorf("%s: not a regular file: name CSV files", path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	defer fh.Close()
	sum, err := ingest.Check(path, fh, opts)
	if err != nil {
		return "", fmt.Errorf("refused %w", err)
	}
	return sum.Provider, nil
}

// missingCredentials names the files whose provider has no credentials here.
func missingCredentials(ps providerSet, targets []runTarget, providers []jobs.Provider) error {
	have := map[jobs.Provider]bool{}
	for _, p := range ps.configured() {
		have[p] = true
	}
	var msgs []string
	for _, p := range providers {
		if have[p] {
			continue
		}
		var names []string
		for _, t := range targets {
			if t.provider == p {
				names = append(names, t.file)
			}
		}
		how := "set STYTCH_PROJECT_ID and STYTCH_SECRET (or STYTCH_SECRET_FILE)"
		if p == jobs.Zitadel {
			how = "set ZITADEL_URL and ZITADEL_TOKEN (or ZITADEL_TOKEN_FILE, ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET, or ZITADEL_KEY_FILE)"
		}
		msgs = append(msgs, fmt.Sprintf("%s hold %s rows but %s is not configured: %s", strings.Join(names, ", "), p, p, how))
	}
	if len(msgs) > 0 {
		return errors.New(strings.Join(msgs, "\n"))
	}
	return nil
}

// resumePaused resumes the providers an earlier run left paused by a fatal answer, now that their
// credentials check passed. With --no-check nothing proves the cause was fixed: it stops (exit 4).
func (a *app) resumePaused(ctx context.Context, rc *redisConn, providers []jobs.Provider, noCheck bool) error {
	paused, err := rc.store.Paused(ctx)
	if err != nil {
		return err
	}
	for _, p := range providers {
		pp, ok := paused[p]
		if !ok {
			continue
		}
		if noCheck {
			return fatal(fmt.Errorf("%s is paused since an earlier run: %s\n  the credentials were not checked (--no-check): run again without --no-check to check them and resume, or fix the cause and run: reactivator resume %s", p, pp.Reason, p))
		}
		if err := worker.Resume(ctx, rc.opt, rc.store, p); err != nil {
			return fmt.Errorf("resume %s: %w", p, err)
		}
		fmt.Fprintf(a.stderr, "%s was paused by an earlier run (%s); its credentials check passed: resumed\n", p, pp.Reason)
	}
	return nil
}

// ingestTargets ingests each file as a run and returns the run ids in order (each once) and the
// target of each run.
func (a *app) ingestTargets(ctx context.Context, rc *redisConn, opts ingest.Options, runID string, newRun bool, stytchEnv string, targets []runTarget) ([]string, map[string]runTarget, error) {
	cfg := ingest.Config{
		Store: rc.store, Enqueuer: asynq.NewClientFromRedisClient(rc.client), Options: opts,
		RunID: runID, NewRun: newRun, StytchEnv: stytchEnv,
	}
	var ids []string
	byRun := map[string]runTarget{}
	reports := map[string]string{}
	for _, t := range targets {
		res, err := a.ingestOne(ctx, cfg, t.file)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, err
			}
			var fe *ingest.FileError
			if errors.As(err, &fe) {
				return nil, nil, fmt.Errorf("refused %w", err)
			}
			return nil, nil, fmt.Errorf("%s: %w", t.file, err)
		}
		fmt.Fprintf(a.stderr, "%s: run %s (%s), %d rows: %s\n", t.file, res.RunID, res.Provider, res.Rows,
			status.OrDash(ingestCounts(res.Queued, res.AlreadyQueued, res.AlreadyDone, res.Invalid, res.Duplicate)))
		if _, seen := byRun[res.RunID]; seen {
			continue
		}
		// Two inputs of one name (a/users.csv, b/users.csv) get reports named by run.
		if other, taken := reports[t.report]; taken && other != res.RunID {
			t.report = strings.TrimSuffix(t.report, ".report.csv") + "." + res.RunID + ".report.csv"
		}
		reports[t.report] = res.RunID
		ids = append(ids, res.RunID)
		byRun[res.RunID] = t
	}
	return ids, byRun, nil
}

// writeRunReports writes each finished run's report (and its failed rows, when there are any),
// prints a summary, and returns the exit: nil when every row was reactivated (or a duplicate),
// else exit 3.
func (a *app) writeRunReports(ctx context.Context, store *jobs.Store, ids []string, byRun map[string]runTarget, shared bool) error {
	failures, rows := 0, 0
	for i, id := range ids {
		t := byRun[id]
		sum, err := writeReportFile(ctx, store, id, t.report, jobs.ReportOptions{Format: jobs.ReportCSV})
		if err != nil {
			return fmt.Errorf("write the report of run %s: %w; the same command writes it again", id, err)
		}
		failed := ""
		if sum.Failures > 0 {
			failed = failedPath(t.report)
			if _, err := writeReportFile(ctx, store, id, failed, jobs.ReportOptions{Format: jobs.ReportCSV, FailedOnly: true}); err != nil {
				return fmt.Errorf("write the failed rows of run %s: %w; the same command writes them again", id, err)
			}
		}
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		printRunSummary(a.stdout, t, sum, failed, shared)
		failures += sum.Failures
		rows += sum.Rows
	}
	if failures > 0 {
		return notAllReactivated(fmt.Errorf("%d of %d rows not reactivated: see the report", failures, rows))
	}
	return nil
}

// printRunSummary prints one run's counts with advice, its report and what to do about failures.
func printRunSummary(w io.Writer, t runTarget, s jobs.ReportSummary, failed string, shared bool) {
	line := fmt.Sprintf("%s: run %s (%s), %d rows", t.file, s.RunID, s.Provider, s.Rows)
	if s.Duration > 0 {
		line += fmt.Sprintf(", called in %s", s.Duration.Round(time.Millisecond))
	}
	if s.Rate > 0 {
		line += ", " + status.RateText(s.Rate)
	}
	fmt.Fprintln(w, line)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, o := range jobs.Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", o, n, o.Advice())
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "  report: %s\n", t.report)
	if failed == "" {
		return
	}
	fmt.Fprintf(w, "  the %d rows not reactivated: %s\n", s.Failures, failed)
	fmt.Fprintf(w, "  fix them, then: reactivator run %s\n", failed)
	if shared {
		fmt.Fprintf(w, "  (later, from the shared Redis: reactivator report %s --failed-only -o failed.csv, then reactivator run failed.csv)\n", s.RunID)
	}
}

// failedPath is where the failed rows of a report go: users.csv.report.csv → users.csv.failed.csv.
func failedPath(report string) string {
	switch {
	case strings.HasSuffix(report, ".report.csv"):
		return strings.TrimSuffix(report, ".report.csv") + ".failed.csv"
	case strings.HasSuffix(report, ".csv"):
		return strings.TrimSuffix(report, ".csv") + ".failed.csv"
	}
	return report + ".failed.csv"
}

// writeReportFile writes a run's report to path through a temporary file, so that a reader never
// sees half a report and an old report stays whole when writing fails.
func writeReportFile(ctx context.Context, store *jobs.Store, runID, path string, o jobs.ReportOptions) (jobs.ReportSummary, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return jobs.ReportSummary{}, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return jobs.ReportSummary{}, err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	sum, err := store.WriteReport(ctx, tmp, runID, o)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, err
	}
	return sum, os.Rename(tmp.Name(), path)
}

// interrupted stops the worker (calls in flight finish) and returns exit 130.
func (a *app) interrupted(w *inProcessWorker, timeout time.Duration, inProcess bool) error {
	fmt.Fprintf(a.stderr, "stopping: calls in flight may finish (up to %s)\n", timeout)
	if err := w.stop(); err != nil {
		a.log.Error("worker did not stop cleanly", "err", err)
	}
	if inProcess {
		return interrupted(errors.New("interrupted: this run used an in-process Redis, so its progress is lost: the same command calls every row again (rows already reactivated then end as not_deactivated); install redis-server for runs that resume"))
	}
	return interrupted(errors.New("interrupted: progress kept; run the same command to resume"))
}

// fatalStop is the exit of a run stopped by a fatal provider answer.
func fatalStop(paused []jobs.Pause, inProcess bool) error {
	var parts []string
	for _, p := range paused {
		at := ""
		if p.RunID != "" {
			at = fmt.Sprintf(" (run %s, line %d)", p.RunID, p.Line)
		}
		parts = append(parts, fmt.Sprintf("%s stopped by a fatal answer%s: %s", p.Provider, at, p.Reason))
	}
	next := "fix it, then run the same command again: rows already done are not called again"
	if inProcess {
		next = "fix it, then run the same command again (with the in-process Redis every row is called again)"
	}
	return fatal(errors.New(strings.Join(parts, "\n") + "\n" + next))
}

// inProcessWorker is a worker.Server running in this process for run and demo.
type inProcessWorker struct {
	// ctx ends when the worker stops for any reason (the command's ctx, stop, or a failure).
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startWorker runs srv until stop is called or ctx ends; calls in flight then finish.
func startWorker(ctx context.Context, srv *worker.Server) *inProcessWorker {
	wctx, cancel := context.WithCancel(ctx)
	w := &inProcessWorker{ctx: wctx, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer cancel()
		w.err = srv.Run(wctx)
	}()
	return w
}

// stop stops the worker and waits for it; calling it again returns the same error.
func (w *inProcessWorker) stop() error {
	w.cancel()
	<-w.done
	return w.err
}
