// This file is the demo command: everything in one process against the built-in fake providers,
// with generated sample files, the worker, the dashboard, and the reports.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"reactivator/ingest"
	"reactivator/internal/asynqlog"
	"reactivator/internal/config"
	"reactivator/internal/dash"
	"reactivator/internal/httpserve"
	"reactivator/internal/oneshot"
	"reactivator/internal/providers"
	"reactivator/internal/runwait"
	"reactivator/jobs"
	"reactivator/worker"
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
	embed          embedOptions
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
	fs.StringVar(&f.embed.stateDir, "state-dir", "", "directory of the embedded redis-server's state (default: redis/ in the demo's directory)")
	fs.BoolVar(&f.embed.inProcess, "in-process-redis", false, "use the in-process Redis even when redis-server is installed")
	_ = fs.MarkHidden("in-process-redis")
	return cmd
}

func (a *app) demo(ctx context.Context, f demoFlags) error {
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
	limits, err := config.ParseRates(f.rate, 200)
	if err != nil {
		return usage(err)
	}

	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "reactivator-demo-"); err != nil {
			return err
		}
	}
	samples, reports := filepath.Join(dir, "samples"), filepath.Join(dir, "reports")
	for _, d := range []string{samples, reports} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if f.embed.stateDir == "" {
		f.embed.stateDir = filepath.Join(dir, "redis")
	}
	f.embed.fresh = true

	fakes, err := oneshot.StartDemo(oneshot.DemoOptions{Members: f.members, Users: f.users, Latency: f.latency,
		ErrorRate: f.errorRate, Seed: f.seed}, samples)
	if err != nil {
		return err
	}
	defer fakes.Stop()
	files := fakes.Files
	callers, err := providers.Set{Stytch: fakes.Stytch, Zitadel: fakes.Zitadel}.Callers(ctx)
	if err != nil {
		return err
	}

	rc, emb, err := a.oneShotRedis(ctx, f.embed, a.stderr)
	if err != nil {
		return err
	}
	defer a.closeRedis(rc)

	reg := prometheus.NewRegistry()
	srv, err := worker.New(worker.Config{
		Redis: rc.client, Callers: callers, Limits: limits, MaxAttempts: 12,
		ShutdownTimeout: 10 * time.Second, Logger: asynqlog.Quiet(a.log), Metrics: worker.NewMetrics(reg),
	})
	if err != nil {
		return err
	}
	w := oneshot.StartWorker(ctx, srv)
	defer w.Stop()

	dashURL, stopDash, err := a.startDemoDash(rc, reg, f.dashAddr)
	if err != nil {
		return err
	}
	defer stopDash()

	redisURL := rc.url
	if emb == nil {
		redisURL = ""
	}
	fakes.WriteIntro(a.stdout, reports, dashURL, redisURL, f.once)

	r := &oneshot.Runner{Store: rc.store, Out: a.stdout, Err: a.stderr, NewBar: a.newBar, Force: true,
		Ingest: ingest.Config{Store: rc.store, Enqueuer: asynq.NewClientFromRedisClient(rc.client), NewRun: true, StytchEnv: "test"}}
	targets, _ := oneshot.Targets(files, reports)
	ids, byRun, err := r.IngestAll(ctx, targets)
	if err != nil {
		if ctx.Err() != nil {
			return a.demoInterrupted(f.once)
		}
		return err
	}
	res, err := r.Wait(w.Context(), ids, false)
	switch {
	case ctx.Err() != nil:
		return a.demoInterrupted(f.once)
	case err != nil:
		return err
	case res.Ending == runwait.Interrupted:
		return fmt.Errorf("the worker stopped before the samples were done: %v", w.Stop())
	}
	fmt.Fprintln(a.stdout)
	if err := r.WriteReports(ctx, ids, byRun); err != nil && !errors.Is(err, runwait.ErrNotAllReactivated) {
		return err
	}
	if f.once {
		for _, id := range ids {
			fmt.Fprintln(a.stdout)
			if _, err := rc.store.WriteReport(ctx, a.stdout, id, jobs.ReportOptions{Format: jobs.ReportMarkdown}); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(a.stdout, "\nEvery sample row has its outcome. The dashboard stays up at %s until Ctrl-C.\n", dashURL)
	<-ctx.Done()
	fmt.Fprintf(a.stderr, "demo stopped; its files stay in %s\n", dir)
	return nil
}

// startDemoDash serves the dashboard (internal/dash) on addr and returns its URL and a stop func.
func (a *app) startDemoDash(rc *redisConn, reg *prometheus.Registry, addr string) (string, func(), error) {
	h, err := dash.New(dash.Config{
		Store: rc.store, Redis: rc.opt, Registry: reg, Logger: asynqlog.Quiet(a.log),
		Resume: func(ctx context.Context, p jobs.Provider) error { return worker.Resume(ctx, rc.client, p) },
	})
	if err != nil {
		return "", nil, err
	}
	srv, err := httpserve.Start(addr, h)
	if err != nil {
		_ = h.Close()
		return "", nil, fmt.Errorf("dashboard: %w", err)
	}
	return srv.URL(), func() {
		_ = srv.Shutdown()
		_ = h.Close()
	}, nil
}

// demoInterrupted is the exit of a demo stopped by Ctrl-C: the normal end, unless --once.
func (a *app) demoInterrupted(once bool) error {
	if once {
		return interrupted(errors.New("interrupted before the samples were done"))
	}
	fmt.Fprintln(a.stderr, "demo stopped")
	return nil
}
