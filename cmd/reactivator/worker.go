// This file is the worker command: it checks the credentials this machine holds, then serves those
// providers' queues with their rate limits until SIGTERM or SIGINT, optionally with /metrics.

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"reactivator/internal/control"
	"reactivator/internal/httpserve"
	"reactivator/internal/schedule"
	"reactivator/jobs"
	"reactivator/worker"
)

// workerFlags are the worker command's own flags.
type workerFlags struct {
	serveFlags
	metricsAddr string
	retention   control.Retention
}

func (a *app) workerCmd() *cobra.Command {
	var pf providerFlags
	f := workerFlags{retention: control.Retention(jobs.DefaultRetention)}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Serve the queues of the providers this machine has credentials for",
		Long: `worker calls the reactivate endpoint for the rows queued on the shared Redis (REDIS_URL), for
every provider this machine has credentials for, and records each row's outcome. Run as many
replicas as you like: the rate limit of each provider is one budget shared by the whole fleet.

It checks the credentials first and exits 4 at once when a provider refuses them, rather than
start and pause that provider's queue. Later, a fatal answer (credentials revoked, permission
taken away) pauses the provider's queue for every worker until ` + "`reactivator resume PROVIDER`" + `.
Transient answers (429, 5xx, timeouts) are retried with backoff up to --max-attempts; a row
queued longer ago than --max-row-age ends as failed.

On SIGTERM or SIGINT it stops taking rows, lets calls in flight finish for --shutdown-timeout
(rows still running then go back to the queue for another worker), and exits 0.`,
		Example: `  # serve Stytch at the default 50 requests/s on the shared Redis
  export REDIS_URL=redis://redis:6379/0 STYTCH_PROJECT_ID=project-live-... STYTCH_SECRET_FILE=/run/secrets/stytch
  reactivator worker

  # ZITADEL at 20/s, Stytch discovering its limit up to 100/s, metrics for Prometheus
  reactivator worker --rate zitadel=20,stytch=auto --max-rate 100 --metrics-addr :9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.work(cmd.Context(), &pf, f, cmd.Flags().Changed("rate"))
		},
	}
	fs := cmd.Flags()
	f.serveFlags.register(fs)
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address, e.g. :9090 (default: off)")
	fs.Var(&f.retention, "retention", "delete finished runs this long after they finished, one worker of the fleet at a time (0: keep them)")
	pf.register(fs)
	return cmd
}

func (a *app) work(ctx context.Context, pf *providerFlags, f workerFlags, rateFromFlag bool) error {
	limits, err := a.limits(f.serveFlags, rateFromFlag)
	if err != nil {
		return err
	}

	ps, err := a.providers(pf)
	if err != nil {
		return err
	}
	serve := ps.configured()
	if len(serve) == 0 {
		return errors.New("nothing to serve: " + noProvidersHelp)
	}
	if err := a.checkProviders(ctx, ps, serve, a.stderr); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("worker not started: %w", err)
	}

	rc, err := a.connectRedis(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	callers, err := ps.callers(ctx)
	if err != nil {
		return err
	}

	handlers, onFinished, err := schedule.WorkerHandlers(rc.store, rc.client, ps.stytchEnv(), a.log) // schedules: inbox pick-ups, report files
	if err != nil {
		return err
	}

	var m *worker.Metrics
	if f.metricsAddr != "" {
		var stop func()
		m, stop, err = a.serveMetrics(f.metricsAddr, rc)
		if err != nil {
			return err
		}
		defer stop()
	}

	srv, err := worker.New(worker.Config{
		Redis: rc.client, Callers: callers, Limits: limits,
		Concurrency: f.concurrency, MaxAttempts: f.maxAttempts, MaxRowAge: f.maxRowAge,
		ShutdownTimeout: f.shutdownTimeout, Logger: a.log, Metrics: m,
		Handlers: handlers, OnRunFinished: onFinished,
	})
	if err != nil {
		return err
	}
	names := make([]string, len(serve))
	for i, p := range serve {
		names[i] = string(p)
	}
	a.log.Info("worker starting", "providers", strings.Join(names, ","), "redis", redactURL(rc.url),
		"concurrency", f.concurrency, "max_attempts", f.maxAttempts, "max_row_age", f.maxRowAge,
		"shutdown_timeout", f.shutdownTimeout, "metrics", f.metricsAddr, "retention", f.retention.String())
	jctx, stopJanitor := context.WithCancel(ctx)
	janitorDone := make(chan error, 1)
	go func() {
		janitorDone <- worker.NewJanitor(rc.store, worker.JanitorConfig{Retention: time.Duration(f.retention), Logger: a.log}).Run(jctx)
	}()
	err = srv.Run(ctx)
	stopJanitor()
	<-janitorDone
	if err != nil {
		return err
	}
	a.log.Info("worker stopped")
	return nil
}

// serveMetrics serves /metrics on addr: the worker's calls and outcomes, asynq's queues, and the
// Go runtime. It returns the worker's metrics and a func that stops the server.
func (a *app) serveMetrics(addr string, rc *redisConn) (*worker.Metrics, func(), error) {
	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg)
	insp := asynq.NewInspectorFromRedisClient(rc.client)
	reg.MustRegister(
		asynqmetrics.NewQueueMetricsCollector(insp),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	srv, err := httpserve.Start(addr, mux)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	go func() {
		<-srv.Done()
		if err := srv.Err(); err != nil {
			a.log.Error("metrics server stopped", "err", err)
		}
	}()
	a.log.Info("serving metrics", "url", srv.URL()+"metrics")
	return m, func() { _ = srv.Shutdown() }, nil
}
