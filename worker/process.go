// A Process is one worker process as the worker command runs it: the Server, the Janitor beside
// it, and /metrics when asked; Retention is the janitor's keep-for as a flag value.

package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/httpserve"
	"reactivator/jobs"
)

// Retention is how long finished runs are kept, as a flag value that also takes days: "30d",
// "36h", "0".
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

// Process is one worker process.
type Process struct {
	// Config is the Server's; Logger is required, and Metrics is set when MetricsAddr is.
	Config
	// MetricsAddr, when set, is where /metrics is served: the worker's calls and outcomes,
	// asynq's queues, and the Go runtime.
	MetricsAddr string
	// Retention is how long the janitor keeps finished runs; 0 keeps them.
	Retention Retention
	// RedisURL is where Redis is, with its secrets hidden, for the log.
	RedisURL string
}

// Run serves the providers of p.Callers until ctx ends, with the janitor beside the server.
func (p Process) Run(ctx context.Context) error {
	log := p.Logger
	if p.MetricsAddr != "" {
		m, stop, err := serveMetrics(p.MetricsAddr, p.Redis, log)
		if err != nil {
			return err
		}
		defer stop()
		p.Metrics = m
	}
	srv, err := New(p.Config)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(p.Callers))
	for _, pr := range jobs.Providers {
		if _, ok := p.Callers[pr]; ok {
			names = append(names, string(pr))
		}
	}
	log.Info("worker starting", "providers", strings.Join(names, ","), "redis", p.RedisURL,
		"concurrency", p.Concurrency, "max_attempts", p.MaxAttempts, "max_row_age", p.MaxRowAge,
		"shutdown_timeout", p.ShutdownTimeout, "metrics", p.MetricsAddr, "retention", p.Retention.String())
	jctx, stopJanitor := context.WithCancel(ctx)
	janitorDone := make(chan error, 1)
	go func() {
		janitorDone <- NewJanitor(jobs.NewStore(p.Redis), JanitorConfig{Retention: time.Duration(p.Retention), Logger: log}).Run(jctx)
	}()
	err = srv.Run(ctx)
	stopJanitor()
	<-janitorDone
	if err != nil {
		return err
	}
	log.Info("worker stopped")
	return nil
}

// serveMetrics serves /metrics on addr and returns the worker's metrics and a func that stops
// the server.
func serveMetrics(addr string, rdb redis.UniversalClient, log *slog.Logger) (*Metrics, func(), error) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	insp := asynq.NewInspectorFromRedisClient(rdb)
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
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "url", srv.URL()+"metrics")
	return m, func() { _ = srv.Shutdown() }, nil
}
