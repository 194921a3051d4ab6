// This file is the prune command: it deletes finished runs older than a duration, with all their
// keys and asynq tasks, now rather than at the workers' next janitor pass.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/status"
	"reactivator/jobs"
)

// retentionFlag is a duration flag that also takes days: "30d", "36h", "0".
type retentionFlag time.Duration

func (d *retentionFlag) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

func (d *retentionFlag) Set(s string) error {
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
	*d = retentionFlag(v)
	return nil
}

func (d *retentionFlag) Type() string { return "duration" }

func (a *app) pruneCmd() *cobra.Command {
	olderThan := retentionFlag(jobs.DefaultRetention)
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete finished runs older than --older-than (default 30d)",
		Long: `prune deletes the runs that finished longer ago than --older-than, with everything Redis keeps
for them: the run, its rows and outcomes, its counters, and its asynq tasks that are still stored
(the archived ones of rows that failed, chiefly). A run that is not finished is never touched,
however old. Write the reports you want to keep first: a pruned run has no report.

Workers do the same on their own (worker --retention, default 30d); prune is for doing it now,
or with another age. Without REDIS_URL it prunes the embedded Redis of run.`,
		Example: `  # what would go
  reactivator prune --older-than 7d --dry-run

  # delete runs finished more than 30 days ago
  reactivator prune`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.prune(cmd.Context(), time.Duration(olderThan), dryRun, asJSON)
		},
	}
	f := cmd.Flags()
	f.Var(&olderThan, "older-than", "delete runs finished longer ago than this (30d, 36h, 0 for every finished run)")
	f.BoolVar(&dryRun, "dry-run", false, "list what would be deleted; delete nothing")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// prune deletes the runs finished longer than olderThan ago (with dryRun, only lists them).
func (a *app) prune(ctx context.Context, olderThan time.Duration, dryRun, asJSON bool) error {
	rc, err := a.runsRedis(ctx)
	if err != nil {
		return err
	}
	defer a.closeRedis(rc)
	before := time.Now().Add(-olderThan)
	res, err := rc.store.Prune(ctx, jobs.PruneOptions{Before: before, DryRun: dryRun})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			FinishedBefore time.Time `json:"finished_before"`
			jobs.PruneResult
		}{before.UTC(), res})
	}
	verb := "pruned"
	if dryRun {
		verb = "would prune"
	}
	fmt.Fprintf(a.stdout, "%s %d runs finished before %s: %d keys, %d asynq tasks\n",
		verb, len(res.Runs), before.Local().Format(time.RFC3339), res.Keys, res.Tasks)
	if len(res.Runs) > 0 {
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RUN\tPROVIDER\tFILE\tFINISHED\tKEYS\tTASKS")
		for _, r := range res.Runs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", r.ID, r.Provider, r.File, status.TimeText(r.FinishedAt), r.Keys, r.Tasks)
		}
		_ = tw.Flush()
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(a.stdout, "kept run %s for now: %s\n", s.ID, s.Reason)
	}
	return nil
}
