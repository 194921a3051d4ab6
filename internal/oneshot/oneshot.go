// Package oneshot works runs to the end in one process, as `run`, `undo` and `demo` do: it
// checks the input files and the credentials, ingests each file as a run (or creates the undo
// run), works their rows with an in-process worker, waits for the runs to finish, and writes their
// reports and failed rows, printing a summary of each.
//
// This file holds the use case of `reactivator run FILE.csv...` (Files: check the files and the
// credentials, ask, open the Redis, and work each file as a run in this process to its report)
// and the Runner that run and demo work their runs with.
package oneshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/ingest"
	"reactivator/internal/atomicfile"
	"reactivator/internal/exitcode"
	"reactivator/internal/progress"
	"reactivator/internal/providers"
	"reactivator/internal/runwait"
	"reactivator/internal/status"
	"reactivator/jobs"
	"reactivator/jobs/report"
	"reactivator/jobs/reportfile"
	"reactivator/worker"
)

// FilesRequest is one `run`: its input files and how to read and report them.
type FilesRequest struct {
	Session
	// Files are the input CSV files, each worked as a run.
	Files []string
	// Report is --report (Targets): "" puts each report beside its name in the working directory.
	Report string
	// Options say how to read the files; RunID names the run of the one file; NewRun starts a
	// fresh run even for a file queued before (ingest.Config).
	Options ingest.Options
	RunID   string
	NewRun  bool
	// Limit, when more than 0, calls only the first Limit rows of each run not done yet (Runner).
	Limit int
	// JSON prints the outcome as one Result document on Out.
	JSON bool

	// reads, when set, is what both passes read each opened input file through (tests count the
	// bytes read).
	reads func(*os.File) io.ReadSeeker
}

// Files works r's files to their reports: it refuses a file that cannot be a CSV and a provider
// without credentials before anything is called, checks the credentials (unless NoCheck), asks
// (when Ask and not Yes), opens the Redis, and runs the files with an in-process worker
// (Runner.Run). A report path that cannot be is a *exitcode.UsageError (a bad command line); other errors are of Runner.Run's
// kinds.
func Files(ctx context.Context, r FilesRequest) error {
	targets, err := Targets(r.Files, r.Report)
	if err != nil {
		return exitcode.AsUsage(err)
	}
	// The files first: one that cannot be a CSV of either kind stops everything before a call.
	need, err := checkFiles(targets, r.Options, r.reads)
	if err != nil {
		return err
	}
	ps, err := providers.Load(r.Env, r.Providers)
	if err != nil {
		return err
	}
	if err := MissingCredentials(ps.Configured(), targets, need); err != nil {
		return err
	}
	if !r.NoCheck {
		if err := r.check(ctx, ps, need); err != nil {
			return err
		}
	}
	if !r.Yes && r.Ask && !Confirm(r.In, r.Err, "reactivate", Changes(ps, targets), r.Limit, nil) {
		return errNotConfirmed
	}
	c, err := r.open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return runwait.Mark(runwait.ErrInterrupted, errors.New("interrupted before anything was queued"))
		}
		return err
	}
	defer r.close(c)
	shared := c.Embedded() == nil
	srv, err := r.server(ctx, c, shared, ps, need)
	if err != nil {
		return err
	}
	run := r.runner(c)
	run.Announce, run.Shared, run.Limit, run.JSON, run.reads = true, shared, r.Limit, r.JSON, r.reads
	run.Ingest = ingest.Config{Store: c.Store, Enqueuer: asynq.NewClientFromRedisClient(c.Client), Options: r.Options,
		RunID: r.RunID, NewRun: r.NewRun, StytchEnv: ps.StytchEnv()}
	return run.Run(ctx, srv, targets)
}

// Target is one input file, its provider and where its report and failed rows go.
type Target struct {
	File     string
	Provider jobs.Provider
	Report   string
	// Failed is where the rows not reactivated go.
	Failed string
	// Rows is the file's number of rows (CheckFiles).
	Rows int
	// Checked is the file's check pass (CheckFiles): IngestAll records the file from it, without
	// reading the file a second time before it records it; nil checks it then.
	Checked *ingest.Checked
	// Action is what the run does to its accounts; "" means jobs.ActionReactivate. The failed
	// rows of an undo run (jobs.ActionDeactivate) are not written to Failed: they are no input.
	Action jobs.Action
}

// Targets pairs each file with its report and failed-rows paths: STEM.report.csv and
// STEM.failed.csv in the working directory (reportfile.For: a failed-rows file fed back in keeps
// its stem), or report (a file for one input; a directory, which need not exist yet, when it ends
// in a slash, exists as one, or several files are given). The error is for a report path that is
// a file while there are several inputs.
func Targets(files []string, report string) ([]Target, error) {
	dir := ""
	switch {
	case report == "":
	case reportfile.IsDir(report):
		dir = report
	case len(files) > 1:
		if st, err := os.Stat(report); err == nil && !st.IsDir() {
			return nil, fmt.Errorf("--report %s is a file: with several input files --report names a directory, where each run's report goes", report)
		}
		dir = report
	}
	t := make([]Target, len(files))
	for i, f := range files {
		t[i].File = f
		switch {
		case report != "" && dir == "":
			t[i].Report, t[i].Failed = report, reportfile.FailedBeside(report)
		default:
			t[i].Report, t[i].Failed = reportfile.For(f, dir)
		}
	}
	return t, nil
}

// CheckFiles reads each target's file (the check pass of its ingestion, ingest.CheckPass) and
// sets its provider, rows and Checked, refusing a file that cannot be a CSV of either kind before
// anything is called. It returns the providers the files hold, in jobs.Providers order.
func CheckFiles(targets []Target, opts ingest.Options) ([]jobs.Provider, error) {
	return checkFiles(targets, opts, nil)
}

// checkFiles is CheckFiles, reading each file through reads when it is set.
func checkFiles(targets []Target, opts ingest.Options, reads func(*os.File) io.ReadSeeker) ([]jobs.Provider, error) {
	need := map[jobs.Provider]bool{}
	for i := range targets {
		c, err := checkFile(targets[i].File, opts, reads)
		if err != nil {
			return nil, fmt.Errorf("%w: nothing was called", err)
		}
		p := c.Provider
		targets[i].Provider, targets[i].Rows, targets[i].Checked = p, c.Rows, &c
		need[p] = true
	}
	var providers []jobs.Provider
	for _, p := range jobs.Providers {
		if need[p] {
			providers = append(providers, p)
		}
	}
	return providers, nil
}

// checkFile refuses a file that cannot be a CSV of either kind and returns its check pass: its
// provider, number of rows and sha256.
func checkFile(path string, opts ingest.Options, reads func(*os.File) io.ReadSeeker) (ingest.Checked, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ingest.Checked{}, fmt.Errorf("%s: no such file", path)
	case err != nil:
		return ingest.Checked{}, fmt.Errorf("%s: %w", path, err)
	case !st.Mode().IsRegular():
		return ingest.Checked{}, fmt.Errorf("%s: not a regular file: name CSV files", path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return ingest.Checked{}, fmt.Errorf("%s: %w", path, err)
	}
	defer fh.Close()
	c, err := ingest.CheckPass(path, readThrough(fh, reads), opts)
	if err != nil {
		return ingest.Checked{}, fmt.Errorf("refused %w", err)
	}
	return c, nil
}

// readThrough is fh, or what reads wraps it in when reads is set.
func readThrough(fh *os.File, reads func(*os.File) io.ReadSeeker) io.ReadSeeker {
	if reads == nil {
		return fh
	}
	return reads(fh)
}

// MissingCredentials names the files whose provider is not among have.
func MissingCredentials(have []jobs.Provider, targets []Target, providers []jobs.Provider) error {
	var msgs []string
	for _, p := range providers {
		if containsProvider(have, p) {
			continue
		}
		var names []string
		for _, t := range targets {
			if t.Provider == p {
				names = append(names, t.File)
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

func containsProvider(ps []jobs.Provider, p jobs.Provider) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// Runner works runs in this process. Its fields are set once; its methods are the steps of
// `run` (Run does them all) and of `demo` (which calls them one by one).
type Runner struct {
	// Store is the run store on the Redis the worker serves. Required.
	Store *jobs.Store
	// Ingest ingests the files; its Store and Enqueuer reach the same Redis. Required.
	Ingest ingest.Config
	// Out gets the summaries, Err the progress and notes. Required.
	Out, Err io.Writer
	// NewBar makes a progress reporter on Err. Required.
	NewBar func(label string, total int) *progress.Bar
	// Announce prints a line per ingested file.
	Announce bool
	// Shared says the Redis is a shared one (not embedded): the summary says how to get the
	// failed rows from it later.
	Shared bool
	// InProcess says the Redis is an in-process one: an interrupted run cannot resume.
	InProcess bool
	// Force overwrites existing reports; false keeps them and numbers the new ones
	// (reportfile.Free).
	Force bool
	// JSON prints, instead of a summary per run, one Result document on Out.
	JSON bool
	// ShutdownTimeout is how long calls in flight may finish on an interrupt (for the message).
	ShutdownTimeout time.Duration
	// Log gets a worker that did not stop cleanly; nil logs nothing.
	Log *slog.Logger
	// Limit, when more than 0, makes each run a canary: only its first Limit rows without an
	// outcome (in line order) are queued and called; the wait ends when they have their
	// outcomes, and the summary says how many rows remain for the same command without a limit.
	Limit int

	// held is the rows each run left unqueued (Limit).
	held map[string]int
	// reads is FilesRequest.reads.
	reads func(*os.File) io.ReadSeeker
}

// Run works the targets with srv to the end: it starts srv, ingests each target as a run, waits
// until every run finishes (or a provider is paused, or ctx ends), stops srv and writes the
// reports. The error is of a runwait kind or jobs.ErrFatal when the runs did not all end with
// every row reactivated.
func (r *Runner) Run(ctx context.Context, srv *worker.Server, targets []Target) error {
	w := StartWorker(ctx, srv)
	defer w.Stop()
	ids, byRun, err := r.IngestAll(ctx, targets)
	if err != nil {
		if ctx.Err() != nil {
			return r.interrupted(w)
		}
		return err
	}
	return r.finish(ctx, w, ids, byRun)
}

// finish waits until the runs of ids, worked by w, finish (or a provider is paused, or ctx
// ends), stops w and writes the reports.
func (r *Runner) finish(ctx context.Context, w *Worker, ids []string, byRun map[string]Target) error {
	res, err := r.wait(w.Context(), ids)
	if ctx.Err() != nil {
		return r.interrupted(w)
	}
	if werr := w.Stop(); werr != nil {
		return fmt.Errorf("worker: %w", werr)
	}
	switch {
	case err != nil:
		return err
	case res.Ending == runwait.Paused:
		return r.fatalStop(res.Paused)
	case res.Ending == runwait.Interrupted:
		return errors.New("the worker stopped before the runs finished; the same command resumes them")
	}
	return r.WriteReports(ctx, ids, byRun)
}

// IngestAll ingests each target as a run and returns the run ids in order (each once) and the
// target of each run. A target with Checked is recorded from its check pass (one more read of
// the file, which must not have changed since); any other is checked and recorded.
func (r *Runner) IngestAll(ctx context.Context, targets []Target) ([]string, map[string]Target, error) {
	var ids []string
	byRun := map[string]Target{}
	reports := map[string]string{}
	r.held = map[string]int{}
	cfg := r.Ingest
	cfg.Limit = r.Limit
	for _, t := range targets {
		var res ingest.Result
		var err error
		if t.Checked != nil {
			res, err = r.record(ctx, cfg, *t.Checked)
		} else {
			res, err = IngestFile(ctx, cfg, t.File, r.NewBar)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, err
			}
			var fe *ingest.FileError
			if errors.As(err, &fe) {
				return nil, nil, fmt.Errorf("refused %w", err)
			}
			return nil, nil, fmt.Errorf("%s: %w", t.File, err)
		}
		if r.Announce {
			counts := IngestCounts(res.Queued, res.AlreadyQueued, res.AlreadyDone, res.Invalid, res.Duplicate)
			if res.Held > 0 {
				counts = strings.TrimPrefix(counts+fmt.Sprintf(", left for later %d (--limit %d)", res.Held, r.Limit), ", ")
			}
			fmt.Fprintf(r.Err, "%s: run %s (%s), %d rows: %s\n", t.File, res.RunID, res.Provider, res.Rows, status.OrDash(counts))
		}
		r.held[res.RunID] = res.Held
		if _, seen := byRun[res.RunID]; seen {
			continue
		}
		// Two inputs of one name (a/users.csv, b/users.csv) get reports named by run.
		if other, taken := reports[t.Report]; taken && other != res.RunID {
			t.Report = strings.TrimSuffix(t.Report, ".report.csv") + "." + res.RunID + ".report.csv"
			t.Failed = reportfile.FailedBeside(t.Report)
		}
		t.Provider = res.Provider
		reports[t.Report] = res.RunID
		ids = append(ids, res.RunID)
		byRun[res.RunID] = t
	}
	return ids, byRun, nil
}

// IngestFile ingests one file with cfg (both passes), with its progress on a bar from newBar.
func IngestFile(ctx context.Context, cfg ingest.Config, path string, newBar func(string, int) *progress.Bar) (ingest.Result, error) {
	return ingestWith(cfg, path, newBar, func(in *ingest.Ingester) (ingest.Result, error) {
		return in.IngestFile(ctx, path)
	})
}

// record records the file c checked with cfg (the record pass), with its progress on a bar.
func (r *Runner) record(ctx context.Context, cfg ingest.Config, c ingest.Checked) (ingest.Result, error) {
	fh, err := ingest.OpenFile(c.Name)
	if err != nil {
		return ingest.Result{}, err
	}
	defer fh.Close()
	return ingestWith(cfg, c.Name, r.NewBar, func(in *ingest.Ingester) (ingest.Result, error) {
		return in.Record(ctx, c, readThrough(fh, r.reads))
	})
}

// ingestWith ingests the file at path with cfg by do, with its progress on a bar from newBar.
func ingestWith(cfg ingest.Config, path string, newBar func(string, int) *progress.Bar, do func(*ingest.Ingester) (ingest.Result, error)) (ingest.Result, error) {
	var bar *progress.Bar
	label := "ingest " + filepath.Base(path)
	if cfg.DryRun {
		label = "check " + filepath.Base(path)
	}
	cfg.Progress = func(p ingest.Progress) {
		if bar == nil {
			bar = newBar(label, p.Total)
		}
		bar.SetTotal(p.Total)
		bar.Update(p.Read, IngestCounts(p.Queued, p.AlreadyQueued, p.AlreadyDone, p.Invalid, p.Duplicate))
	}
	in, err := ingest.New(cfg)
	if err != nil {
		return ingest.Result{}, err
	}
	res, err := do(in)
	if bar != nil {
		bar.Finish()
	}
	return res, err
}

// IngestCounts is the progress text of an ingestion, the zero counts left out.
func IngestCounts(queued, alreadyQueued, alreadyDone, invalid, duplicate int) string {
	var parts []string
	for _, c := range []struct {
		name string
		n    int
	}{{"queued", queued}, {"already queued", alreadyQueued}, {"already done", alreadyDone}, {"invalid", invalid}, {"duplicate", duplicate}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c.name, c.n))
		}
	}
	return strings.Join(parts, ", ")
}

// Wait waits for the runs of ids with a progress bar; ctx is the worker's (Worker.Context), so
// the wait ends when the worker stops.
func (r *Runner) Wait(ctx context.Context, ids []string, stopOnPause bool) (runwait.Result, error) {
	bar := r.NewBar(runwait.Label(ids), 0)
	defer bar.Finish()
	return runwait.Wait(ctx, r.Store, ids, runwait.Options{StopOnPause: stopOnPause, Tick: status.BarTicker(bar)})
}

// wait is Wait, ending a canary run (Limit) once the rows it queued have their outcomes.
func (r *Runner) wait(ctx context.Context, ids []string) (runwait.Result, error) {
	bar := r.NewBar(runwait.Label(ids), 0)
	defer bar.Finish()
	o := runwait.Options{StopOnPause: true, Tick: status.BarTicker(bar)}
	for id, n := range r.held {
		if n > 0 {
			if o.Held == nil {
				o.Held = map[string]int{}
			}
			o.Held[id] = n
		}
	}
	return runwait.Wait(ctx, r.Store, ids, o)
}

// WriteReports writes each finished run's report (and its failed rows, when there are any),
// prints a summary of each, and returns nil when every row was reactivated (or a duplicate),
// else an error of kind runwait.ErrNotAllReactivated.
func (r *Runner) WriteReports(ctx context.Context, ids []string, byRun map[string]Target) error {
	failures, rows := 0, 0
	verb := jobs.ActionReactivate.Done()
	doc := Result{Runs: []RunResult{}}
	for i, id := range ids {
		t := byRun[id]
		// An existing report is the record of an earlier run: never overwritten unless Force.
		n, err := reportfile.Free(r.Force, t.Report, t.Failed)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(r.Err, "%s exists: kept it; this run's report gets number %d (--force overwrites)\n", t.Report, n)
			t.Report, t.Failed = reportfile.Numbered(t.Report, n), reportfile.Numbered(t.Failed, n)
		}
		sum, err := WriteReport(ctx, r.Store, id, t.Report, jobs.ReportOptions{Format: jobs.ReportCSV}, true)
		if err != nil {
			return fmt.Errorf("write the report of run %s: %w; the same command writes it again", id, err)
		}
		failed := ""
		if t.Action == jobs.ActionDeactivate {
			verb = t.Action.Done()
		}
		if sum.Failures > 0 && t.Action != jobs.ActionDeactivate {
			failed = t.Failed
			if _, err := WriteReport(ctx, r.Store, id, failed, jobs.ReportOptions{Format: jobs.ReportCSV, FailedOnly: true}, true); err != nil {
				return fmt.Errorf("write the failed rows of run %s: %w; the same command writes them again", id, err)
			}
		}
		failures += sum.Failures
		rows += sum.Rows
		if r.JSON {
			res := resultOf(t, sum, failed)
			res.Remaining = r.held[id]
			doc.Runs = append(doc.Runs, res)
			continue
		}
		if i > 0 {
			fmt.Fprintln(r.Out)
		}
		writeSummary(r.Out, t, sum, failed, r.Shared)
		if n := r.held[id]; n > 0 {
			fmt.Fprintf(r.Out, "  %d rows remain (--limit %d): the same command without --limit calls them\n", n, r.Limit)
		}
	}
	if r.JSON {
		enc := json.NewEncoder(r.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	}
	if failures > 0 {
		return runwait.Mark(runwait.ErrNotAllReactivated, fmt.Errorf("%d of %d rows not %s: see the report", failures, rows, verb))
	}
	return nil
}

// Result is the document `run --json` prints on stdout when the runs are done (progress and
// messages go to stderr). Its field names and meanings are part of the program's interface.
type Result struct {
	// Runs are the runs of the input files, in the order of the files.
	Runs []RunResult `json:"runs"`
}

// RunResult is one run in a Result.
type RunResult struct {
	// File is the input file as given.
	File string `json:"file"`
	// RunID is the run's id: `reactivator report RUN`, `status RUN` take it (or a prefix).
	RunID    string        `json:"run_id"`
	Provider jobs.Provider `json:"provider"`
	// Status is the run's state in the words of status and the dashboard (finished, cancelled…).
	Status jobs.Status `json:"status"`
	// Rows is the number of input rows.
	Rows int `json:"rows"`
	// Counts are the rows per outcome.
	Counts map[jobs.Outcome]int `json:"counts"`
	// Failures is the number of rows in Failed: the rows to look at.
	Failures int `json:"failures"`
	// Report is the path of the report (every row).
	Report string `json:"report"`
	// Failed is the path of the failed rows, valid input for run; "" when there are none.
	Failed string `json:"failed,omitempty"`
	// Remaining is the number of rows --limit left uncalled; the same command without --limit
	// calls them.
	Remaining int `json:"remaining,omitempty"`
	// DurationSeconds is the time from the first call to the last outcome.
	DurationSeconds float64 `json:"duration_seconds"`
	// RatePerSecond is rows per second over that time.
	RatePerSecond float64 `json:"rate_per_second"`
}

func resultOf(t Target, s jobs.ReportSummary, failed string) RunResult {
	counts := s.Counts
	if counts == nil {
		counts = map[jobs.Outcome]int{}
	}
	return RunResult{File: t.File, RunID: s.RunID, Provider: s.Provider, Status: s.Status, Rows: s.Rows,
		Counts: counts, Failures: s.Failures, Report: t.Report, Failed: failed,
		DurationSeconds: s.Duration.Seconds(), RatePerSecond: s.Rate}
}

// writeSummary prints one run's counts with advice, its report and what to do about failures.
func writeSummary(w io.Writer, t Target, s jobs.ReportSummary, failed string, shared bool) {
	line := fmt.Sprintf("%s: run %s (%s), %d rows", t.File, s.RunID, s.Provider, s.Rows)
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
	fmt.Fprintf(w, "  report: %s\n", t.Report)
	if failed == "" {
		if t.Action == jobs.ActionDeactivate && s.Failures > 0 {
			fmt.Fprintf(w, "  the %d rows not deactivated: reactivator report %s --failed-only\n", s.Failures, s.RunID)
		}
		return
	}
	fmt.Fprintf(w, "  the %d rows not reactivated: %s\n", s.Failures, failed)
	fmt.Fprintf(w, "  fix them, then: reactivator run %s\n", failed)
	if shared {
		fmt.Fprintf(w, "  (later, from the shared Redis: reactivator report %s --failed-only -o failed.csv, then reactivator run failed.csv)\n", s.RunID)
	}
}

// WriteReport writes a run's report to path whole or not at all (internal/atomicfile), creating
// its directory when mkdir says so.
func WriteReport(ctx context.Context, store *jobs.Store, runID, path string, o jobs.ReportOptions, mkdir bool) (jobs.ReportSummary, error) {
	var sum jobs.ReportSummary
	if mkdir {
		if err := atomicfile.MkdirAll(path); err != nil {
			return sum, err
		}
	}
	err := atomicfile.Write(path, func(w io.Writer) (err error) {
		sum, err = report.Write(ctx, w, store, runID, o)
		return err
	})
	return sum, err
}

// interrupted stops the worker (calls in flight finish) and returns an error of kind
// runwait.ErrInterrupted.
func (r *Runner) interrupted(w *Worker) error {
	fmt.Fprintf(r.Err, "stopping: calls in flight may finish (up to %s)\n", r.ShutdownTimeout)
	if err := w.Stop(); err != nil && r.Log != nil {
		r.Log.Error("worker did not stop cleanly", "err", err)
	}
	if r.InProcess {
		return runwait.Mark(runwait.ErrInterrupted, errors.New("interrupted: this run used an in-process Redis, so its progress is lost: the same command calls every row again (rows already reactivated then end as not_deactivated); install redis-server for runs that resume"))
	}
	return runwait.Mark(runwait.ErrInterrupted, errors.New("interrupted: progress kept; run the same command to resume"))
}

// fatalStop is the error of runs stopped by a fatal provider answer (kind jobs.ErrFatal).
func (r *Runner) fatalStop(paused []jobs.Pause) error {
	var parts []string
	for _, p := range paused {
		at := ""
		if p.RunID != "" {
			at = fmt.Sprintf(" (run %s, line %d)", p.RunID, p.Line)
		}
		parts = append(parts, fmt.Sprintf("%s stopped by a fatal answer%s: %s", p.Provider, at, p.Reason))
	}
	next := "fix it, then run the same command again: rows already done are not called again"
	if r.InProcess {
		next = "fix it, then run the same command again (with the in-process Redis every row is called again)"
	}
	return runwait.Mark(jobs.ErrFatal, errors.New(strings.Join(parts, "\n")+"\n"+next))
}

// Worker is a worker.Server running in this process.
type Worker struct {
	// ctx ends when the worker stops for any reason (the caller's ctx, Stop, or a failure).
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// StartWorker runs srv until Stop is called or ctx ends; calls in flight then finish.
func StartWorker(ctx context.Context, srv *worker.Server) *Worker {
	wctx, cancel := context.WithCancel(ctx)
	w := &Worker{ctx: wctx, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer cancel()
		w.err = srv.Run(wctx)
	}()
	return w
}

// Context ends when the worker stops.
func (w *Worker) Context() context.Context { return w.ctx }

// Stop stops the worker and waits for it; calling it again returns the same error.
func (w *Worker) Stop() error {
	w.cancel()
	<-w.done
	return w.err
}
