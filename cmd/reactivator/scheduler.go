// This file is the scheduler command: it runs the cron schedules of a schedules file
// (internal/schedule), one instance active at a time.

package main

import (
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/redisconn"
	"reactivator/internal/schedule"
)

// schedulerOptions are the scheduler command's options.
type schedulerOptions struct {
	schedule.Process
	check bool
}

func (a *app) schedulerCmd() *cobra.Command {
	var o schedulerOptions
	cmd := &cobra.Command{
		Use:   "scheduler --config schedules.yaml",
		Short: "Pick up the files dropped into inboxes on cron schedules (one instance active at a time)",
		Long: `scheduler reads a schedules file and, on each schedule's cron spec, queues a pick-up of its inbox
on the shared Redis (REDIS_URL). A worker (` + "`reactivator worker`" + `) then claims each new file of the
inbox, ingests it as a run, moves it to <inbox>/done/ (or to <inbox>/failed/ with the reason in
<file>.error.txt), and writes the run's report to <reports>/<run id>.report.csv when it finishes.
Workers read the inboxes and write the reports, so they need those directories mounted.

  reports: /data/reports            # optional: where finished runs' reports go
  schedules:
    - name: nightly-zitadel
      cron: "0 3 * * *"             # min hour day month weekday (UTC; "CRON_TZ=Europe/Berlin 0 3 * * *"),
                                    # or "@every 30s", "@hourly", "@daily"
      inbox: /data/inbox/zitadel    # absolute; only files directly in it are picked up
      pattern: "*.csv"              # optional, default *.csv; hidden files (.x.csv) are skipped
      provider: zitadel             # optional; else read from each file's header
      rate: 40                      # optional: the runs' own calls per second, under the
                                    # provider's --rate (else only the provider's limit)
      settle: 5s                    # optional, default 5s: files modified more recently are
                                    # left for the next tick (still being copied in)

A file is ingested once however many workers there are; the same bytes dropped again are the same
run (its id comes from the content), so nothing is queued twice.

Run as many schedulers as you like for availability: one holds a lock in Redis and queues the
pick-ups, the others stand by and take over within --lock-ttl when it stops or dies. The log says
which instance is active. A malformed file is refused at start with the line and field at fault;
--check only checks it and prints the next tick of each schedule.`,
		Example: `  # check the file, then run it beside one or more workers
  reactivator scheduler --config /etc/reactivator/schedules.yaml --check
  export REDIS_URL=redis://redis:6379/0
  reactivator scheduler --config /etc/reactivator/schedules.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if o.check {
				return o.Config.WriteTable(a.stdout, time.Now())
			}
			rc, err := a.connectRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer rc.Close()
			o.Redis, o.Store, o.RedisURL, o.Log = redisconn.ConnOpt(rc.Client), rc.Store, rc.String(), a.log
			return schedule.Serve(cmd.Context(), o.Process)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.File, "config", "", "the schedules file (YAML; see above)")
	fs.BoolVar(&o.check, "check", false, "check the schedules file, print each schedule's next tick, and exit")
	fs.DurationVar(&o.LockTTL, "lock-ttl", 15*time.Second, "how long the active scheduler's lock outlives it: a standby takes over within this")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
