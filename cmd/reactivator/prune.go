// This file is the prune command: it deletes finished runs older than a duration, with all their
// keys and asynq tasks, now rather than at the workers' next janitor pass (internal/control).

package main

import (
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/control"
	"reactivator/jobs"
	"reactivator/worker"
)

func (a *app) pruneCmd() *cobra.Command {
	olderThan := worker.Retention(jobs.DefaultRetention)
	var q control.PruneRequest
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete finished runs older than --older-than (default 30d)",
		Long: `prune deletes the runs that finished longer ago than --older-than, with everything Redis keeps
for them: the run, its rows and outcomes, its counters, and its asynq tasks that are still stored
(the archived ones of rows that failed, chiefly). A run that is not finished is never touched,
however old. Write the reports you want to keep first: a pruned run has no report. A prune
stopped in the middle of a run leaves it with status pruning (no report any more); the next
prune finishes it.

Workers do the same on their own (worker --retention, default 30d); prune is for doing it now,
or with another age. Without REDIS_URL it prunes the embedded Redis of run.`,
		Example: `  # what would go
  reactivator prune --older-than 7d --dry-run

  # delete runs finished more than 30 days ago
  reactivator prune`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := a.runsRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer a.closeRedis(rc)
			q.OlderThan = time.Duration(olderThan)
			return control.Prune(cmd.Context(), rc.Store, q, a.stdout)
		},
	}
	f := cmd.Flags()
	f.Var(&olderThan, "older-than", "delete runs finished longer ago than this (30d, 36h, 0 for every finished run)")
	f.BoolVar(&q.DryRun, "dry-run", false, "list what would be deleted; delete nothing")
	f.BoolVar(&q.JSON, "json", false, "print JSON")
	return cmd
}
