// This file prunes finished runs now, rather than at the workers' next janitor pass, and says
// what went.

package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"reactivator/internal/status"
	"reactivator/jobs"
)

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
