// This file is the demo command: everything in one process against the built-in fake providers,
// with generated sample files, the worker, the dashboard, and the reports (oneshot.DemoRun).

package main

import (
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/oneshot"
)

func (a *app) demoCmd() *cobra.Command {
	var o oneshot.DemoRun
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything in one process against built-in fake Stytch and ZITADEL servers",
		Long: `demo shows reactivator at work without touching a real identity provider. It starts a fake
Stytch and a fake ZITADEL on loopback ports, seeds them with a realistic mix of accounts (mostly
deactivated ones, some already active, unverified emails, unknown ids, a typo and a repeat),
writes a sample CSV file for each, and runs them as run would: an embedded Redis, the worker in
this process, a little latency and a few 5xx answers so that retries show. The dashboard is
served on 127.0.0.1; the status and report commands work from another terminal with the
REDIS_URL it prints.

The demo's files (samples, reports, Redis state) go to a fresh directory under the temporary
directory, or --dir. It runs until Ctrl-C; with --once it finishes the samples, prints each run's
Markdown report and exits.`,
		Example: `  # watch it in the dashboard; Ctrl-C to stop
  reactivator demo

  # in CI or a README: run the samples and print the reports
  reactivator demo --once

  # bigger samples, slower, more errors
  reactivator demo --members 500 --users 500 --rate stytch=20,zitadel=20 --error-rate 0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			o.Redis = a.sharedRedis()
			o.Out, o.Err, o.NewBar, o.Log, o.Embed.Log = a.stdout, a.stderr, a.newBar, a.log, a.log
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.Once, "once", false, "finish the samples, print each run's Markdown report, exit")
	fs.StringVar(&o.Dir, "dir", "", "directory for the samples, reports and Redis state (default: a fresh one under the temporary directory)")
	fs.IntVar(&o.Members, "members", 60, "Stytch members in the sample")
	fs.IntVar(&o.Users, "users", 60, "ZITADEL users in the sample")
	fs.StringVar(&o.Rate, "rate", "stytch=10,zitadel=10", "requests per second per provider (slow enough to watch)")
	fs.DurationVar(&o.Latency, "latency", 80*time.Millisecond, "latency the fake providers add to each call")
	fs.Float64Var(&o.ErrorRate, "error-rate", 0.05, "share of calls the fakes answer with a 5xx (retried)")
	fs.StringVar(&o.DashAddr, "dash-addr", "127.0.0.1:0", "where the dashboard listens (loopback; port 0 picks a free one)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the sample accounts and of the faults")
	fs.StringVar(&o.Embed.StateDir, "state-dir", "", "directory of the embedded redis-server's state (default: redis/ in the demo's directory)")
	fs.BoolVar(&o.Embed.InProcess, "in-process-redis", false, "use the in-process Redis even when redis-server is installed")
	_ = fs.MarkHidden("in-process-redis")
	return cmd
}
