// A Janitor is responsible for retention in a fleet: every interval, the one worker that holds
// the janitor lock deletes the runs finished longer ago than the retention.

package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"reactivator/internal/clock"
	"reactivator/jobs"
)

// JanitorLock is the name of the lock a janitor holds while it prunes.
const JanitorLock = "janitor"

// JanitorConfig configures a Janitor. Zero values take the defaults named on each field.
type JanitorConfig struct {
	// Retention is how long finished runs are kept; 0 turns the janitor off.
	Retention time.Duration
	// Interval is the time between two prunes; 0 means 5 minutes.
	Interval time.Duration
	// LockTTL is how long the lock outlives a janitor that died while pruning; 0 means a minute.
	// A pass renews it every LockTTL/3.
	LockTTL time.Duration
	// Logger receives what was pruned; nil means slog.Default().
	Logger *slog.Logger
	// Clock tells the time the retention counts back from; nil means clock.Real.
	Clock clock.Clock
}

// Janitor prunes finished runs older than its retention, one janitor of the fleet at a time.
type Janitor struct {
	store *jobs.Store
	cfg   JanitorConfig
	token string
	// prune is the store's Prune; tests watch it.
	prune func(context.Context, jobs.PruneOptions) (jobs.PruneResult, error)
}

// NewJanitor returns a janitor over store.
func NewJanitor(store *jobs.Store, cfg JanitorConfig) *Janitor {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Minute
	}
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Clock = clock.Or(cfg.Clock)
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return &Janitor{store: store, cfg: cfg, token: hex.EncodeToString(b), prune: store.Prune}
}

// Run prunes at once, then every interval, until ctx ends; it returns nil then. With a retention
// of 0 it returns at once. A failed pass is logged and tried again at the next interval.
func (j *Janitor) Run(ctx context.Context) error {
	if j.cfg.Retention <= 0 {
		return nil
	}
	t := time.NewTicker(j.cfg.Interval)
	defer t.Stop()
	for {
		if _, ran, err := j.Once(ctx); err != nil && ctx.Err() == nil {
			j.cfg.Logger.Error("janitor: prune failed; trying again later", "err", err, "retry_in", j.cfg.Interval)
		} else if ran {
			j.cfg.Logger.Debug("janitor: pass done")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once prunes once if this janitor gets the lock; ran is false when another one holds it.
func (j *Janitor) Once(ctx context.Context) (res jobs.PruneResult, ran bool, err error) {
	ok, err := j.store.AcquireLock(ctx, JanitorLock, j.token, j.cfg.LockTTL)
	if err != nil || !ok {
		return res, false, err
	}
	pctx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(j.cfg.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				if err := j.store.RenewLock(pctx, JanitorLock, j.token, j.cfg.LockTTL); err != nil {
					cancel(fmt.Errorf("janitor lock: %w", err))
					return
				}
			}
		}
	}()
	cutoff := j.cfg.Clock.Now().Add(-j.cfg.Retention)
	res, err = j.prune(pctx, jobs.PruneOptions{Before: cutoff})
	cancel(nil)
	<-renewed
	if cause := context.Cause(pctx); cause != nil && !errors.Is(cause, context.Canceled) && err != nil {
		err = cause
	}
	// Released so a janitor elsewhere is not kept out for the TTL if this process stops; the
	// interval, not the lock, spaces the passes.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if rerr := j.store.ReleaseLock(rctx, JanitorLock, j.token); rerr != nil && err == nil {
		err = rerr
	}
	if len(res.Runs) > 0 || len(res.Skipped) > 0 {
		ids := make([]string, len(res.Runs))
		for i, r := range res.Runs {
			ids[i] = r.ID
		}
		j.cfg.Logger.Info("janitor pruned finished runs", "runs", len(res.Runs), "keys", res.Keys, "tasks", res.Tasks,
			"skipped", len(res.Skipped), "finished_before", cutoff.UTC().Format(time.RFC3339), "run_ids", ids)
	}
	return res, true, err
}
