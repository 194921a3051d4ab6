// This file is the demo's use case: the fake world, a Redis, the worker and the dashboard in one
// process, the samples worked to the end and their reports written.

package oneshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"reactivator/ingest"
	"reactivator/internal/asynqlog"
	"reactivator/internal/config"
	"reactivator/internal/dash"
	"reactivator/internal/exitcode"
	"reactivator/internal/httpserve"
	"reactivator/internal/progress"
	"reactivator/internal/providers"
	"reactivator/internal/redisconn"
	"reactivator/internal/runwait"
	"reactivator/jobs"
	"reactivator/jobs/report"
	"reactivator/worker"
)

// DemoRun is a whole demo: its world, where its files go, its Redis and what it prints.
type DemoRun struct {
	DemoOptions
	// Dir gets samples/ and reports/; "" makes a fresh directory under the temporary one.
	Dir string
	// Redis names the demo's Redis; when its URL is "", Embed is started, its state in
	// Dir/redis unless Embed.StateDir says.
	Redis redisconn.Options
	Embed redisconn.Embed
	// Limits are the providers' rate limits; Validate reads them from Rate (--rate,
	// "stytch=10,zitadel=10").
	Limits map[jobs.Provider]worker.Limit
	Rate   string
	// DashAddr is where the dashboard listens.
	DashAddr string
	// Once finishes the samples, prints each run's Markdown report and returns; otherwise the
	// dashboard stays up until ctx ends.
	Once bool
	// Out gets the intro, summaries and reports; Err the progress and notes. Required.
	Out, Err io.Writer
	// NewBar makes a progress reporter on Err. Required.
	NewBar func(label string, total int) *progress.Bar
	// Log is the process's logger (quietened for the worker and the dashboard). Required.
	Log *slog.Logger
}

// Validate checks the demo's settings and reads Rate into Limits; every error it returns is a bad
// command line (an *exitcode.UsageError) naming the flag at fault.
func (d *DemoRun) Validate() (err error) {
	switch {
	case d.Members < 0 || d.Users < 0 || d.Members+d.Users == 0:
		return exitcode.Usagef("--members %d --users %d: want some accounts", d.Members, d.Users)
	case d.ErrorRate < 0 || d.ErrorRate >= 1:
		return exitcode.Usagef("--error-rate %g: want a share from 0 to below 1", d.ErrorRate)
	case d.Latency < 0:
		return exitcode.Usagef("--latency %s: want 0 or more", d.Latency)
	}
	if err := dash.CheckBind(d.DashAddr, false); err != nil {
		return exitcode.Usagef("--dash-addr: %v", err)
	}
	if d.Limits, err = config.ParseRates(d.Rate, 200); err != nil {
		return exitcode.AsUsage(err)
	}
	return nil
}

// Run runs the demo. ctx ending is its normal end, unless Once: then it is
// runwait.ErrInterrupted.
func (d DemoRun) Run(ctx context.Context) error {
	dir := d.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "reactivator-demo-"); err != nil {
			return err
		}
	}
	samples, reports := filepath.Join(dir, "samples"), filepath.Join(dir, "reports")
	for _, sub := range []string{samples, reports} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
	}
	if d.Redis.URL == "" {
		emb := d.Embed
		if emb.StateDir == "" {
			emb.StateDir = filepath.Join(dir, "redis")
		}
		d.Redis.Embed = &emb
	}
	fakes, err := StartDemo(d.DemoOptions, samples)
	if err != nil {
		return err
	}
	defer fakes.Stop()
	callers, err := providers.Set{Stytch: fakes.Stytch, Zitadel: fakes.Zitadel}.Callers(ctx)
	if err != nil {
		return err
	}
	c, err := redisconn.Open(ctx, d.Redis)
	if err != nil {
		return err
	}
	fmt.Fprintln(d.Err, c.Describe(true))
	defer func() {
		if err := c.Close(); err != nil {
			d.Log.Error("embedded redis did not stop cleanly", "err", err)
		}
	}()
	store := jobs.NewStore(c.Client)

	reg := prometheus.NewRegistry()
	srv, err := worker.New(worker.Config{
		Redis: c.Client, Callers: callers, Limits: d.Limits, MaxAttempts: 12,
		ShutdownTimeout: 10 * time.Second, Logger: asynqlog.Quiet(d.Log), Metrics: worker.NewMetrics(reg),
	})
	if err != nil {
		return err
	}
	w := StartWorker(ctx, srv)
	defer w.Stop()

	dashURL, stopDash, err := d.startDash(c, store, reg)
	if err != nil {
		return err
	}
	defer stopDash()

	redisURL := c.String()
	if c.Embedded() == nil {
		redisURL = ""
	}
	fakes.WriteIntro(d.Out, reports, dashURL, redisURL, d.Once)

	r := &Runner{Store: store, Out: d.Out, Err: d.Err, NewBar: d.NewBar, Force: true,
		Ingest: ingest.Config{Store: store, Enqueuer: asynq.NewClientFromRedisClient(c.Client), NewRun: true, StytchEnv: "test"}}
	targets, _ := Targets(fakes.Files, reports)
	ids, byRun, err := r.IngestAll(ctx, targets)
	if err != nil {
		if ctx.Err() != nil {
			return d.interrupted()
		}
		return err
	}
	res, err := r.Wait(w.Context(), ids, false)
	switch {
	case ctx.Err() != nil:
		return d.interrupted()
	case err != nil:
		return err
	case res.Ending == runwait.Interrupted:
		return fmt.Errorf("the worker stopped before the samples were done: %v", w.Stop())
	}
	fmt.Fprintln(d.Out)
	if err := r.WriteReports(ctx, ids, byRun); err != nil && !errors.Is(err, runwait.ErrNotAllReactivated) {
		return err
	}
	if d.Once {
		for _, id := range ids {
			fmt.Fprintln(d.Out)
			if _, err := report.Write(ctx, d.Out, store, id, jobs.ReportOptions{Format: jobs.ReportMarkdown}); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(d.Out, "\nEvery sample row has its outcome. The dashboard stays up at %s until Ctrl-C.\n", dashURL)
	<-ctx.Done()
	fmt.Fprintf(d.Err, "demo stopped; its files stay in %s\n", dir)
	return nil
}

// startDash serves the dashboard (internal/dash) on d.DashAddr and returns its URL and a stop
// func.
func (d DemoRun) startDash(c *redisconn.Conn, store *jobs.Store, reg *prometheus.Registry) (string, func(), error) {
	h, err := dash.New(dash.Config{
		Store: store, Redis: redisconn.ConnOpt(c.Client), Registry: reg, Logger: asynqlog.Quiet(d.Log),
		Resume: func(ctx context.Context, p jobs.Provider) error { return worker.Resume(ctx, c.Client, p) },
	})
	if err != nil {
		return "", nil, err
	}
	srv, err := httpserve.Start(d.DashAddr, h)
	if err != nil {
		_ = h.Close()
		return "", nil, fmt.Errorf("dashboard: %w", err)
	}
	return srv.URL(), func() {
		_ = srv.Shutdown()
		_ = h.Close()
	}, nil
}

// interrupted is the end of a demo stopped by Ctrl-C: the normal end, unless Once.
func (d DemoRun) interrupted() error {
	if d.Once {
		return runwait.Mark(runwait.ErrInterrupted, errors.New("interrupted before the samples were done"))
	}
	fmt.Fprintln(d.Err, "demo stopped")
	return nil
}
