// Package dash is reactivator's web UI: a runs page and a page per run with its failures and
// report downloads, paused providers with a resume button, the asynq monitor (asynqmon) mounted
// at /monitoring/, and /metrics for Prometheus.
//
// Pages are rendered on the server with html/template and carry their own CSS and one small
// script (go:embed): the dashboard needs no CDN. The script polls /api/runs or /api/runs/{id}
// and swaps the live parts of the page in place, so numbers, the chart and the failure list stay
// current without a reload; without it the pages still work, as still pages with GET filters.
// Serve it on loopback, or behind basic auth (CheckBind decides); the monitor is read-only unless
// Config.MonitorWrite says otherwise.
package dash

// This file is responsible for the dashboard's configuration and its routes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"reactivator/jobs"
)

// monitorPath is where the asynq monitor is mounted.
const monitorPath = "/monitoring"

// Config configures the dashboard.
type Config struct {
	// Store is the run store the pages and metrics read. Required.
	Store *jobs.Store
	// Redis is asynq's connection, for the monitor and the queue metrics. Required.
	Redis asynq.RedisConnOpt
	// Registry is what /metrics serves. New adds asynq's queue metrics and the run-store metrics
	// to it; the caller adds the rest (process metrics, and worker.NewMetrics when the workers
	// run in the same process, as in the demo). Nil means a fresh registry.
	Registry *prometheus.Registry
	// MonitorWrite lets the embedded asynq monitor delete, run, archive and pause; false (the
	// default) keeps it read-only.
	MonitorWrite bool
	// BasicAuthUser and BasicAuthPassword, when set (both or neither), are required of every
	// request. They are never logged.
	BasicAuthUser, BasicAuthPassword string
	// Resume unpauses a provider (worker.Resume). Nil hides the resume button.
	Resume func(ctx context.Context, p jobs.Provider) error
	// CheckResume, when set, runs before Resume, as `reactivator resume` checks the credentials
	// first: an error refuses the resume (409, its text shown) and the provider stays paused.
	CheckResume func(ctx context.Context, p jobs.Provider) error
	// Refresh is how often an open page polls for fresh numbers (no reload: the page updates in
	// place); 0 means 5s, a negative value never.
	Refresh time.Duration
	// Logger gets errors and refused requests. Nil discards them.
	Logger *slog.Logger
}

// Validate reports the first field that is missing or inconsistent.
func (c Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("dash: Config.Store is required")
	case c.Redis == nil:
		return errors.New("dash: Config.Redis is required")
	case (c.BasicAuthUser == "") != (c.BasicAuthPassword == ""):
		return errors.New("dash: Config.BasicAuthUser and Config.BasicAuthPassword must be set together")
	}
	return nil
}

// HasAuth reports whether the config asks for basic auth (the argument CheckBind wants).
func (c Config) HasAuth() bool { return c.BasicAuthUser != "" && c.BasicAuthPassword != "" }

// Handler serves the dashboard. Close it to release its Redis connections.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler
	closers []io.Closer
	pages   *pages
	cache   failureCache
}

// New returns the dashboard's handler.
func New(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = defaultRefresh
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, pages: pg}

	inspector := asynq.NewInspector(cfg.Redis)
	h.closers = append(h.closers, inspector)
	for _, c := range []prometheus.Collector{
		asynqmetrics.NewQueueMetricsCollector(inspector),
		newStoreCollector(cfg.Store, cfg.Logger),
	} {
		if err := cfg.Registry.Register(c); err != nil {
			if are := (prometheus.AlreadyRegisteredError{}); !errors.As(err, &are) {
				_ = h.Close()
				return nil, fmt.Errorf("dash: register metrics: %w", err)
			}
		}
	}

	mon := asynqmon.New(asynqmon.Options{RootPath: monitorPath, RedisConnOpt: cfg.Redis, ReadOnly: !cfg.MonitorWrite})
	h.closers = append(h.closers, mon)
	var monitor http.Handler = mon
	if !cfg.MonitorWrite {
		monitor = readOnly(monitor)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.runsPage)
	mux.HandleFunc("GET /runs/{id}", h.runPage)
	mux.HandleFunc("GET /runs/{id}/{file}", h.report)
	mux.HandleFunc("GET /api/runs", h.liveRuns)
	mux.HandleFunc("GET /api/runs/{id}", h.liveRun)
	mux.HandleFunc("POST /providers/{provider}/resume", h.resume)
	mux.Handle("GET /static/", http.FileServerFS(staticFS))
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.Handle(monitorPath+"/", monitor)
	mux.Handle(monitorPath, http.RedirectHandler(monitorPath+"/", http.StatusMovedPermanently))

	var handler http.Handler = securityHeaders(mux)
	handler = crossOrigin(cfg.Logger, handler)
	if cfg.HasAuth() {
		handler = basicAuth(cfg.BasicAuthUser, cfg.BasicAuthPassword, cfg.Logger, handler)
	}
	h.handler = handler
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// Close releases the monitor's and the metrics' Redis connections. The store is the caller's.
func (h *Handler) Close() error {
	var errs []error
	for _, c := range h.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
