// This file is responsible for the run-store metrics the dashboard computes at scrape time.

package dash

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"reactivator/jobs"
)

// storeCollector reads runs and pauses from the store on every scrape, so the numbers are the
// fleet's, whichever worker recorded them, and nothing has to be kept in step.
type storeCollector struct {
	store   *jobs.Store
	log     *slog.Logger
	timeout time.Duration

	runs, inFlight, rows, paused *prometheus.Desc
}

func newStoreCollector(store *jobs.Store, log *slog.Logger) *storeCollector {
	return &storeCollector{
		store: store, log: log, timeout: 5 * time.Second,
		runs: prometheus.NewDesc("reactivator_runs",
			"Runs by provider and state (ingesting, queued, finished): every unfinished run, and the finished ones created in the last 24 hours.", []string{"provider", "state"}, nil),
		inFlight: prometheus.NewDesc("reactivator_runs_in_flight",
			"Runs not finished yet, by provider.", []string{"provider"}, nil),
		rows: prometheus.NewDesc("reactivator_run_rows",
			"Rows by provider and outcome of the runs reactivator_runs counts (unfinished, or created in the last 24 hours); outcome \"pending\" counts the rows of unfinished runs without one yet.",
			[]string{"provider", "outcome"}, nil),
		paused: prometheus.NewDesc("reactivator_provider_paused",
			"1 while the provider's queue is paused by a fatal answer, else 0.", []string{"provider"}, nil),
	}
}

// metricsWindow is how far back finished runs count in the metrics: a scrape reads the runs in
// progress and those created within it, not every run the store keeps.
const metricsWindow = 24 * time.Hour

// recentRuns returns the runs not finished and the runs created in the last metricsWindow.
func (c *storeCollector) recentRuns(ctx context.Context) ([]jobs.Run, error) {
	runs, err := c.store.OpenRuns(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(runs))
	for _, r := range runs {
		seen[r.ID] = true
	}
	since := time.Now().Add(-metricsWindow)
	o := jobs.ListOptions{Limit: 200}
	for {
		page, err := c.store.ListRuns(ctx, o)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Runs {
			if r.CreatedAt.Before(since) {
				return runs, nil
			}
			if !seen[r.ID] {
				seen[r.ID] = true
				runs = append(runs, r)
			}
		}
		if page.Next == "" {
			return runs, nil
		}
		o.After = page.Next
	}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.runs
	ch <- c.inFlight
	ch <- c.rows
	ch <- c.paused
}

// Collect implements prometheus.Collector. A store that cannot be read fails these metrics only;
// asynq's and the process's are still served.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	runs, err := c.recentRuns(ctx)
	if err != nil {
		c.log.Error("dashboard metrics: read runs", "err", err)
		ch <- prometheus.NewInvalidMetric(c.runs, err)
		return
	}
	paused, err := c.store.Paused(ctx)
	if err != nil {
		c.log.Error("dashboard metrics: read paused providers", "err", err)
		ch <- prometheus.NewInvalidMetric(c.paused, err)
		return
	}
	states := []jobs.RunState{jobs.RunIngesting, jobs.RunQueued, jobs.RunFinished}
	for _, p := range providersOf(runs, paused) {
		byState := map[jobs.RunState]int{}
		rows := map[string]int{}
		for _, r := range runs {
			if r.Provider != p {
				continue
			}
			byState[r.State]++
			for o, n := range r.Counts {
				rows[string(o)] += n
			}
			if p := r.Pending(); r.State != jobs.RunFinished && p > 0 {
				rows["pending"] += p
			}
		}
		for _, s := range states {
			ch <- prometheus.MustNewConstMetric(c.runs, prometheus.GaugeValue, float64(byState[s]), string(p), string(s))
		}
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue,
			float64(byState[jobs.RunIngesting]+byState[jobs.RunQueued]), string(p))
		for _, o := range jobs.Outcomes {
			ch <- prometheus.MustNewConstMetric(c.rows, prometheus.GaugeValue, float64(rows[string(o)]), string(p), string(o))
		}
		ch <- prometheus.MustNewConstMetric(c.rows, prometheus.GaugeValue, float64(rows["pending"]), string(p), "pending")
		v := 0.0
		if _, ok := paused[p]; ok {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, v, string(p))
	}
}

// providersOf lists the known providers, then any other the store mentions, so every series
// exists from the first scrape on (a rate() over a series that appears late misses its start).
func providersOf(runs []jobs.Run, paused map[jobs.Provider]jobs.Pause) []jobs.Provider {
	out := append([]jobs.Provider(nil), jobs.Providers...)
	seen := map[jobs.Provider]bool{}
	for _, p := range out {
		seen[p] = true
	}
	add := func(p jobs.Provider) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, r := range runs {
		add(r.Provider)
	}
	for p := range paused {
		add(p)
	}
	return out
}
