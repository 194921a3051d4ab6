// This file renders a View: a table of runs, one run in detail, paused providers, JSON, and the
// live updates of `status --watch`.

package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"reactivator/internal/progress"
	"reactivator/jobs"
)

// Write prints v to w: JSON, or one run in detail when runID names it, else a table of runs;
// then the paused providers.
func (v View) Write(w io.Writer, runID string, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if runID != "" && len(v.Runs) == 1 {
		writeDetail(w, v.Runs[0])
	} else {
		writeTable(w, v.Runs)
		if v.More {
			fmt.Fprintln(w, "older finished runs not shown: --limit N shows more, --all every run")
		}
	}
	writePauses(w, v.Paused)
	return nil
}

// writeTable prints one line per run.
func writeTable(w io.Writer, runs []Run) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs yet: queue one with `reactivator ingest FILE.csv` (or `reactivator run FILE.csv`)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tPROVIDER\tFILE\tSTATE\tDONE/TOTAL\tOUTCOMES\tRATE\tSTARTED\tFINISHED")
	for _, r := range runs {
		file := r.File
		switch {
		case r.UndoOf != "":
			file = "undo of " + r.UndoOf
		case r.UndoneBy != "":
			file += " (undone by " + r.UndoneBy + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Provider, file, string(r.Status),
			DoneOfTotal(r.Done, r.Total), OrDash(RunCountsText(r)), RateText(r.Rate), TimeText(r.CreatedAt), OrDash(TimeText(r.FinishedAt)))
	}
	_ = tw.Flush()
}

// writeDetail prints one run: its fields, its outcomes with advice, and what to run next.
func writeDetail(w io.Writer, r Run) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("run", r.ID)
	row("provider", string(r.Provider))
	row("file", r.File)
	row("state", string(r.Status))
	prog := DoneOfTotal(r.Done, r.Total)
	if r.Total > 0 {
		prog += fmt.Sprintf(" (%d%%)", r.Percent())
	}
	if r.Pending > 0 {
		prog += fmt.Sprintf(", %d pending", r.Pending)
	}
	row("progress", prog)
	if r.Rate > 0 {
		row("rate", RateText(r.Rate))
	}
	row("created", TimeText(r.CreatedAt))
	row("first call", TimeText(r.FirstCallAt))
	row("last outcome", TimeText(r.LastOutcomeAt))
	row("finished", TimeText(r.FinishedAt))
	row("note", r.Note)
	if r.UndoOf != "" {
		row("undoes", "run "+r.UndoOf+": deactivates the accounts it reactivated")
	}
	row("undone", UndoneText(r))
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
	case r.Status == jobs.StatusPruning:
		fmt.Fprintln(w, "being pruned: some of its rows are deleted, so it has no report; the next prune (reactivator prune, or a worker's janitor) finishes it")
	case r.State != jobs.RunFinished:
		fmt.Fprintf(w, "follow it: reactivator status %s --watch\n", r.ID)
	case r.Failures > 0:
		fmt.Fprintf(w, "the %d rows not %s: reactivator report %s --failed-only -o %s.failed.csv\n", r.Failures, r.Action.Done(), r.ID, r.ID)
	default:
		fmt.Fprintf(w, "report: reactivator report %s -o %s.report.csv\n", r.ID, r.ID)
	}
}

// UndoneText says whether and how far run r was undone: "by undo-R (finished): 3 of 4
// deactivated, started 2026-…", "" when it was not.
func UndoneText(r Run) string {
	switch {
	case r.Undone != nil:
		u := r.Undone
		s := fmt.Sprintf("by %s (%s): %d of %s deactivated, started %s", u.Run, u.Status, u.Deactivated, totalText(u.Total), TimeText(u.CreatedAt))
		if !u.FinishedAt.IsZero() {
			s += ", finished " + TimeText(u.FinishedAt)
		}
		return s
	case r.UndoneBy != "":
		return "by " + r.UndoneBy + " (since pruned)"
	}
	return ""
}

func totalText(n int) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

// writePauses lists paused providers with their reason and the command that resumes them.
func writePauses(w io.Writer, paused []jobs.Pause) {
	for _, p := range paused {
		where := ""
		if p.RunID != "" {
			where = fmt.Sprintf(" by run %s line %d", p.RunID, p.Line)
		}
		fmt.Fprintf(w, "\n%s is PAUSED since %s%s: %s\n  no further %s rows are called; %s, then: reactivator resume %s\n",
			p.Provider, TimeText(p.At), where, p.Reason, p.Provider, p.Fix(), p.Provider)
	}
}

// BarTicker returns a runwait tick that feeds the runs' summed progress to bar.
func BarTicker(bar *progress.Bar) func([]jobs.Run, map[jobs.Provider]jobs.Pause) {
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
		bar.Update(done, CountsText(counts))
	}
}

// WatchInterval is how often status --watch redraws.
const WatchInterval = 2 * time.Second

// Watcher prints the ticks of status --watch to W.
type Watcher struct {
	W io.Writer
	// Store lists the runs when RunID is "".
	Store *jobs.Store
	// RunID is the one run watched; "" shows the runs status shows.
	RunID string
	// Limit is how many of the newest runs are shown besides those in progress; 0 shows every run.
	Limit int
	// JSON prints a document per tick; else Terminal redraws the screen, and otherwise a line is
	// printed per run whose progress changed.
	JSON, Terminal bool
	// Now is the time of each update; nil means time.Now.
	Now func() time.Time

	last map[string]string
}

// Tick is a runwait tick: it prints the runs as they are now.
func (wt *Watcher) Tick(ctx context.Context) func([]jobs.Run, map[jobs.Provider]jobs.Pause) {
	now := wt.Now
	if now == nil {
		now = time.Now
	}
	wt.last = map[string]string{}
	return func(runs []jobs.Run, paused map[jobs.Provider]jobs.Pause) {
		if wt.RunID == "" {
			// Show every run, not only the ones watched, as status does.
			if all, _, err := List(ctx, wt.Store, wt.Limit); err == nil {
				runs = all
			}
		}
		v := New(runs, paused, wt.RunID != "")
		switch {
		case wt.JSON:
			b, _ := json.Marshal(v)
			fmt.Fprintf(wt.W, "%s\n", b)
		case wt.Terminal:
			fmt.Fprint(wt.W, "\033[H\033[2J")
			_ = v.Write(wt.W, wt.RunID, false)
			fmt.Fprintf(wt.W, "\nupdated %s, every %s; Ctrl-C stops watching (the runs go on)\n", now().Format("15:04:05"), WatchInterval)
		default:
			wt.lines(v, now())
		}
	}
}

// lines prints a line per run, and per pause, that changed since the last tick.
func (wt *Watcher) lines(v View, now time.Time) {
	for _, r := range v.Runs {
		line := fmt.Sprintf("run %s: %s %s, %s", r.ID, string(r.Status), DoneOfTotal(r.Done, r.Total), OrDash(RunCountsText(r)))
		if r.Rate > 0 {
			line += ", " + RateText(r.Rate)
		}
		if wt.last[r.ID] != line {
			wt.last[r.ID] = line
			fmt.Fprintf(wt.W, "%s %s\n", now.Format("15:04:05"), line)
		}
	}
	for _, p := range v.Paused {
		line := fmt.Sprintf("%s is PAUSED: %s; %s, then: reactivator resume %s", p.Provider, p.Reason, p.Fix(), p.Provider)
		if wt.last["paused:"+string(p.Provider)] != line {
			wt.last["paused:"+string(p.Provider)] = line
			fmt.Fprintf(wt.W, "%s %s\n", now.Format("15:04:05"), line)
		}
	}
}
