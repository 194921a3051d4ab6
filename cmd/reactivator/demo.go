// This file is the demo command: everything in one process against the built-in fake providers,
// with generated sample files, the worker, the dashboard, and the reports (oneshot.DemoRun).

package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/config"
	"reactivator/internal/dash"
	"reactivator/internal/oneshot"
	"reactivator/internal/redisconn"
)

// demoFlags are the demo command's own flags.
type demoFlags struct {
	once           bool
	dir            string
	members, users int
	rate           string
	latency        time.Duration
	errorRate      float64
	dashAddr       string
	seed           uint64
	stateDir       string
	inProcess      bool
}

func (a *app) demoCmd() *cobra.Command {
	var f demoFlags
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
			return a.demo(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.once, "once", false, "finish the samples, print each run's Markdown report, exit")
	fs.StringVar(&f.dir, "dir", "", "directory for the samples, reports and Redis state (default: a fresh one under the temporary directory)")
	fs.IntVar(&f.members, "members", 60, "Stytch members in the sample")
	fs.IntVar(&f.users, "users", 60, "ZITADEL users in the sample")
	fs.StringVar(&f.rate, "rate", "stytch=10,zitadel=10", "requests per second per provider (slow enough to watch)")
	fs.DurationVar(&f.latency, "latency", 80*time.Millisecond, "latency the fake providers add to each call")
	fs.Float64Var(&f.errorRate, "error-rate", 0.05, "share of calls the fakes answer with a 5xx (retried)")
	fs.StringVar(&f.dashAddr, "dash-addr", "127.0.0.1:0", "where the dashboard listens (loopback; port 0 picks a free one)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the sample accounts and of the faults")
	fs.StringVar(&f.stateDir, "state-dir", "", "directory of the embedded redis-server's state (default: redis/ in the demo's directory)")
	fs.BoolVar(&f.inProcess, "in-process-redis", false, "use the in-process Redis even when redis-server is installed")
	_ = fs.MarkHidden("in-process-redis")
	return cmd
}

// Validate checks the demo's flags; a bad one is a usage error.
func (f demoFlags) Validate() error {
	switch {
	case f.members < 0 || f.users < 0 || f.members+f.users == 0:
		return usageError("--members %d --users %d: want some accounts", f.members, f.users)
	case f.errorRate < 0 || f.errorRate >= 1:
		return usageError("--error-rate %g: want a share from 0 to below 1", f.errorRate)
	case f.latency < 0:
		return usageError("--latency %s: want 0 or more", f.latency)
	}
	if err := dash.CheckBind(f.dashAddr, false); err != nil {
		return usageError("--dash-addr: %v", err)
	}
	return nil
}

// demo runs the demo (oneshot.DemoRun) on --redis / REDIS_URL, else on an embedded Redis.
func (a *app) demo(ctx context.Context, f demoFlags) error {
	if err := f.Validate(); err != nil {
		return err
	}
	limits, err := config.ParseRates(f.rate, 200)
	if err != nil {
		return usage(err)
	}
	opts, _ := a.env.Redis(a.redisURL, a.redisCA, nil)
	return oneshot.DemoRun{
		DemoOptions: oneshot.DemoOptions{Members: f.members, Users: f.users, Latency: f.latency, ErrorRate: f.errorRate, Seed: f.seed},
		Dir:         f.dir, Redis: opts, Embed: redisconn.Embed{StateDir: f.stateDir, InProcess: f.inProcess, Log: a.log}, Limits: limits, DashAddr: f.dashAddr, Once: f.once,
		Out: a.stdout, Err: a.stderr, NewBar: a.newBar, Log: a.log,
	}.Run(ctx)
}
