// This file prunes finished runs now, rather than at the workers' next janitor pass, and says
// what went; Retention is the duration flag (with days) of prune --older-than and worker
// --retention.

package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"reactivator/internal/status"
	"reactivator/jobs"
)

// Retention is a duration flag that also takes days: "30d", "36h", "0".
type Retention time.Duration

func (d *Retention) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

// Set reads a duration such as 30d, 36h or 90m; it must be 0 or more.
func (d *Retention) Set(s string) error {
	var v time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return fmt.Errorf("%q: want a duration such as 30d, 36h or 90m", s)
		}
		v = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if v, err = time.ParseDuration(s); err != nil {
			return fmt.Errorf("%q: want a duration such as 30d, 36h or 90m", s)
		}
	}
	if v < 0 {
		return fmt.Errorf("%q: want a duration of 0 or more", s)
	}
	*d = Retention(v)
	return nil
}

// Type names the flag's value in help.
func (d *Retention) Type() string { return "duration" }

// PruneRequest is what Prune deletes and how it says so.
type PruneRequest struct {
	// OlderThan is how long ago a run must have finished to go.
	OlderThan time.Duration
	// DryRun lists what would go and deletes nothing.
	DryRun bool
	// JSON prints PruneDocument rather than sentences and a table.
	JSON bool
	// Now is the time the age counts from; zero means time.Now.
	Now time.Time
}

// PruneDocument is what `prune --json` prints: the cutoff and what went (jobs.PruneResult).
type PruneDocument struct {
	// FinishedBefore is the cutoff: runs finished before it went.
	FinishedBefore time.Time `json:"finished_before"`
	jobs.PruneResult
}

// Prune deletes the runs finished longer than q.OlderThan ago (with q.DryRun, only lists them)
// and tells out what went.
func Prune(ctx context.Context, store *jobs.Store, q PruneRequest, out io.Writer) error {
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	before := now.Add(-q.OlderThan)
	res, err := store.Prune(ctx, jobs.PruneOptions{Before: before, DryRun: q.DryRun})
	if err != nil {
		return err
	}
	if q.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(PruneDocument{FinishedBefore: before.UTC(), PruneResult: res})
	}
	verb := "pruned"
	if q.DryRun {
		verb = "would prune"
	}
	fmt.Fprintf(out, "%s %d runs finished before %s: %d keys, %d asynq tasks\n",
		verb, len(res.Runs), before.Local().Format(time.RFC3339), res.Keys, res.Tasks)
	if len(res.Runs) > 0 {
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RUN\tPROVIDER\tFILE\tFINISHED\tKEYS\tTASKS")
		for _, r := range res.Runs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", r.ID, r.Provider, r.File, status.TimeText(r.FinishedAt), r.Keys, r.Tasks)
		}
		_ = tw.Flush()
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(out, "kept run %s for now: %s\n", s.ID, s.Reason)
	}
	return nil
}
