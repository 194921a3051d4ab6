// This file is the status command: the runs and their progress, paused providers, and the waiting
// for runs to finish that ingest --wait and status --wait share.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/progress"
	"reactivator/internal/runwait"
	"reactivator/jobs"
)

// Intervals of the status loops.
const (
	// watchInterval is how often status --watch redraws.
	watchInterval = 2 * time.Second
)

func (a *app) statusCmd() *cobra.Command {
	var asJSON, watch, wait bool
	cmd := &cobra.Command{
		Use:   "status [RUN]",
		Short: "Show runs and their progress, and paused providers",
		Long: `status lists the runs on the shared Redis, newest first: provider, file, state, rows done of
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
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			rc, err := a.connectRedis(ctx)
			if err != nil {
				return err
			}
			defer rc.Close()
			runID := ""
			if len(args) == 1 {
				runID = args[0]
				if _, err := rc.store.Run(ctx, runID); err != nil {
					return unknownRun(runID, err)
				}
			}
			v, err := readStatus(ctx, rc.store, runID)
			if err != nil {
				return err
			}
			if !watch && !wait {
				return a.printStatus(a.stdout, v, runID, asJSON)
			}
			ids := v.unfinished()
			if runID != "" {
				ids = []string{runID}
			}
			if len(ids) == 0 {
				if err := a.printStatus(a.stdout, v, runID, asJSON); err != nil {
					return err
				}
				if wait {
					fmt.Fprintln(a.stderr, "no run in progress: nothing to wait for")
				}
				return nil
			}
			var tick func([]jobs.Run, map[jobs.Provider]jobs.Pause)
			var bar *progress.Bar
			interval := runwait.DefaultInterval
			if watch {
				interval = watchInterval
				tick = a.watchPrinter(ctx, rc.store, runID, asJSON)
			} else {
				bar = a.newBar(runsLabel(ids), 0)
				tick = barTicker(bar)
			}
			res, err := runwait.Wait(ctx, rc.store, ids, runwait.Options{Interval: interval, StopOnPause: wait, Tick: tick})
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			if res.Ending == runwait.Interrupted {
				return res.Err()
			}
			if !watch {
				v, err = readStatus(ctx, rc.store, runID)
				if err != nil {
					return err
				}
				if err := a.printStatus(a.stdout, v, runID, asJSON); err != nil {
					return err
				}
			}
			if !wait {
				return nil
			}
			return res.Err()
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON (with --watch: one JSON document per line and refresh)")
	f.BoolVar(&watch, "watch", false, "refresh every 2s until the runs are finished or Ctrl-C")
	f.BoolVar(&wait, "wait", false, "block until the run(s) are finished; the exit code says how they ended")
	return cmd
}

// unknownRun is the error for a run id the store does not know, saying how to find run ids.
func unknownRun(id string, err error) error {
	if errors.Is(err, jobs.ErrRunNotFound) {
		return fmt.Errorf("no run %q: `reactivator status` lists the runs; ingest prints the id of each run it queues", id)
	}
	return err
}

// statusView is what status shows: runs and paused providers.
type statusView struct {
	Runs   []runView    `json:"runs"`
	Paused []jobs.Pause `json:"paused"`
}

// runView is a run as status shows it, with what the store derives from it.
type runView struct {
	jobs.Run
	// Pending is the number of rows without an outcome, -1 while the run is ingesting.
	Pending  int     `json:"pending"`
	Failures int     `json:"failures"`
	Rate     float64 `json:"rate"`
	// Paused is true while the run's provider is paused and the run is not finished.
	Paused bool `json:"paused,omitempty"`
	// Status is the run's state in the words the dashboard and the reports use (jobs.Status).
	Status jobs.Status `json:"status"`
}

func viewOf(r jobs.Run, paused map[jobs.Provider]jobs.Pause) runView {
	v := runView{Run: r, Pending: -1, Failures: r.Failures(), Rate: r.Rate()}
	if r.Total >= 0 {
		v.Pending = max(0, r.Total-r.Done)
	}
	_, p := paused[r.Provider]
	v.Paused = p && r.State != jobs.RunFinished
	v.Status = r.Status(v.Paused)
	return v
}

// unfinished returns the ids of the runs that are not finished.
func (v statusView) unfinished() []string {
	var ids []string
	for _, r := range v.Runs {
		if r.State != jobs.RunFinished {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// readStatus reads every run (or only runID) and the paused providers.
func readStatus(ctx context.Context, store *jobs.Store, runID string) (statusView, error) {
	paused, err := store.Paused(ctx)
	if err != nil {
		return statusView{}, err
	}
	var runs []jobs.Run
	if runID != "" {
		r, err := store.Run(ctx, runID)
		if err != nil {
			return statusView{}, err
		}
		runs = []jobs.Run{r}
	} else if runs, err = store.Runs(ctx); err != nil {
		return statusView{}, err
	}
	return makeView(runs, paused, runID != ""), nil
}

// makeView builds the view; with single, only the pause of the run's provider is kept.
func makeView(runs []jobs.Run, paused map[jobs.Provider]jobs.Pause, single bool) statusView {
	v := statusView{Runs: make([]runView, 0, len(runs)), Paused: []jobs.Pause{}}
	for _, r := range runs {
		v.Runs = append(v.Runs, viewOf(r, paused))
	}
	for _, p := range jobs.Providers {
		pp, ok := paused[p]
		if !ok || (single && (len(runs) == 0 || runs[0].Provider != p)) {
			continue
		}
		if pp.Provider == "" {
			pp.Provider = p
		}
		v.Paused = append(v.Paused, pp)
	}
	return v
}

// printStatus prints the view: a table of runs, or one run in detail, or JSON.
func (a *app) printStatus(w io.Writer, v statusView, runID string, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if runID != "" && len(v.Runs) == 1 {
		printRunDetail(w, v.Runs[0])
	} else {
		printRunTable(w, v.Runs)
	}
	a.printPauses(w, v.Paused)
	return nil
}

// printRunTable prints one line per run.
func printRunTable(w io.Writer, runs []runView) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs yet: queue one with `reactivator ingest FILE.csv` (or `reactivator run FILE.csv`)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tPROVIDER\tFILE\tSTATE\tDONE/TOTAL\tOUTCOMES\tRATE\tSTARTED\tFINISHED")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Provider, r.File, stateText(r),
			doneOfTotal(r.Run), orDash(runwait.CountsText(r.Counts)), rateText(r.Rate), timeText(r.CreatedAt), orDash(timeText(r.FinishedAt)))
	}
	_ = tw.Flush()
}

// printRunDetail prints one run: its fields, its outcomes with advice, and what to run next.
func printRunDetail(w io.Writer, r runView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("run", r.ID)
	row("provider", string(r.Provider))
	row("file", r.File)
	row("state", stateText(r))
	prog := doneOfTotal(r.Run)
	if r.Total > 0 {
		prog += fmt.Sprintf(" (%d%%)", r.Done*100/r.Total)
	}
	if r.Pending > 0 {
		prog += fmt.Sprintf(", %d pending", r.Pending)
	}
	row("progress", prog)
	if r.Rate > 0 {
		row("rate", rateText(r.Rate))
	}
	row("created", timeText(r.CreatedAt))
	row("first call", timeText(r.FirstCallAt))
	row("last outcome", timeText(r.LastOutcomeAt))
	row("finished", timeText(r.FinishedAt))
	row("note", r.Note)
	_ = tw.Flush()
	if len(r.Counts) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "OUTCOME\tROWS\tWHAT TO DO")
		for _, o := range jobs.Outcomes {
			if n := r.Counts[o]; n > 0 {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", o, n, o.Advice())
			}
		}
		_ = tw.Flush()
	}
	fmt.Fprintln(w)
	switch {
	case r.State != jobs.RunFinished:
		fmt.Fprintf(w, "follow it: reactivator status %s --watch\n", r.ID)
	case r.Failures > 0:
		fmt.Fprintf(w, "the %d rows not reactivated: reactivator report %s --failed-only -o %s.failed.csv\n", r.Failures, r.ID, r.ID)
	default:
		fmt.Fprintf(w, "report: reactivator report %s -o %s.report.csv\n", r.ID, r.ID)
	}
}

// printPauses lists paused providers with their reason and the command that resumes them.
func (a *app) printPauses(w io.Writer, paused []jobs.Pause) {
	for _, p := range paused {
		where := ""
		if p.RunID != "" {
			where = fmt.Sprintf(" by run %s line %d", p.RunID, p.Line)
		}
		fmt.Fprintf(w, "\n%s is PAUSED since %s%s: %s\n  no further %s rows are called; fix the cause, then: reactivator resume %s\n",
			p.Provider, timeText(p.At), where, p.Reason, p.Provider, p.Provider)
	}
}

// stateText is the run's status in the words the dashboard and the reports use too.
func stateText(r runView) string { return string(r.Run.Status(r.Paused)) }

func doneOfTotal(r jobs.Run) string {
	if r.Total < 0 {
		return fmt.Sprintf("%d/?", r.Done)
	}
	return fmt.Sprintf("%d/%d", r.Done, r.Total)
}

func rateText(r float64) string {
	switch {
	case r <= 0:
		return "-"
	case r >= 10:
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.1f/s", r)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newBar returns a progress reporter on stderr: a bar on a terminal, plain lines otherwise.
func (a *app) newBar(label string, total int) *progress.Bar {
	return progress.New(a.stderr, a.isTerminal(a.stderr), label, total)
}

// runsLabel names the runs a wait is for.
func runsLabel(ids []string) string {
	if len(ids) == 1 {
		return "run " + ids[0]
	}
	return fmt.Sprintf("%d runs", len(ids))
}

// barTicker feeds the runs' summed progress to bar.
func barTicker(bar *progress.Bar) func([]jobs.Run, map[jobs.Provider]jobs.Pause) {
	return func(runs []jobs.Run, _ map[jobs.Provider]jobs.Pause) {
		total, done := 0, 0
		counts := map[jobs.Outcome]int{}
		for _, r := range runs {
			if r.Total < 0 {
				total = -1
			} else if total >= 0 {
				total += r.Total
			}
			done += r.Done
			for o, n := range r.Counts {
				counts[o] += n
			}
		}
		if total > 0 {
			bar.SetTotal(total)
		}
		bar.Update(done, runwait.CountsText(counts))
	}
}

// watchPrinter returns the tick of status --watch: on a terminal it redraws the screen, else it
// prints a line per run whose progress changed (or, with JSON, a document per tick).
func (a *app) watchPrinter(ctx context.Context, store *jobs.Store, runID string, asJSON bool) func([]jobs.Run, map[jobs.Provider]jobs.Pause) {
	tty := a.isTerminal(a.stdout)
	last := map[string]string{}
	return func(runs []jobs.Run, paused map[jobs.Provider]jobs.Pause) {
		if runID == "" {
			// Show every run, not only the ones watched, as status does.
			if all, err := store.Runs(ctx); err == nil {
				runs = all
			}
		}
		v := makeView(runs, paused, runID != "")
		switch {
		case asJSON:
			b, _ := json.Marshal(v)
			fmt.Fprintf(a.stdout, "%s\n", b)
		case tty:
			fmt.Fprint(a.stdout, "\033[H\033[2J")
			_ = a.printStatus(a.stdout, v, runID, false)
			fmt.Fprintf(a.stdout, "\nupdated %s, every %s; Ctrl-C stops watching (the runs go on)\n", time.Now().Format("15:04:05"), watchInterval)
		default:
			for _, r := range v.Runs {
				line := fmt.Sprintf("run %s: %s %s, %s", r.ID, stateText(r), doneOfTotal(r.Run), orDash(runwait.CountsText(r.Counts)))
				if r.Rate > 0 {
					line += ", " + rateText(r.Rate)
				}
				if last[r.ID] != line {
					last[r.ID] = line
					fmt.Fprintf(a.stdout, "%s %s\n", time.Now().Format("15:04:05"), line)
				}
			}
			for _, p := range v.Paused {
				line := fmt.Sprintf("%s is PAUSED: %s; fix it, then: reactivator resume %s", p.Provider, p.Reason, p.Provider)
				if last["paused:"+string(p.Provider)] != line {
					last["paused:"+string(p.Provider)] = line
					fmt.Fprintf(a.stdout, "%s %s\n", time.Now().Format("15:04:05"), line)
				}
			}
		}
	}
}
