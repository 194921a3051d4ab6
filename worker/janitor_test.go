package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reactivator/internal/clock"
	"reactivator/jobs"
)

// finishedRun makes a run of one row that is finished (or, with open, left unfinished).
func finishedRun(t *testing.T, store *jobs.Store, id string, open bool) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := store.CreateRun(ctx, jobs.Run{ID: id, Provider: jobs.Zitadel, File: id + ".csv"}); err != nil {
		t.Fatal(err)
	}
	row := jobs.IngestRow{Row: jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: "100"}, Input: []string{"", "", "100"}}
	if _, err := store.AddRows(ctx, id, []jobs.IngestRow{row}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetTotal(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	if !open {
		if _, _, err := store.Record(ctx, id, 2, jobs.OutcomeRecord{Outcome: jobs.Reactivated}); err != nil {
			t.Fatal(err)
		}
	}
}

// Two workers' janitors: while one prunes, the other's pass finds the lock taken and prunes
// nothing (forced, not timed: the first prune waits for it); then, run side by side, never two
// prunes at once, every old finished run pruned once, the unfinished one kept, the lock released.
func TestJanitorOnePrunesAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 20 {
		finishedRun(t, b.store, fmt.Sprintf("jan-%02d", i), false)
	}
	finishedRun(t, b.store, "jan-open", true)

	var inPrune, overlaps, passes, pruned atomic.Int64
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// An hour on: every finished run is older than the retention.
	later := clock.Func(func() time.Time { return time.Now().Add(time.Hour) })
	newJanitor := func(during func()) *Janitor {
		j := NewJanitor(b.store, JanitorConfig{Retention: time.Minute, Interval: time.Millisecond, LockTTL: time.Second, Logger: quiet, Clock: later})
		real := j.prune
		j.prune = func(ctx context.Context, o jobs.PruneOptions) (jobs.PruneResult, error) {
			if inPrune.Add(1) > 1 {
				overlaps.Add(1)
			}
			defer inPrune.Add(-1)
			passes.Add(1)
			during()
			res, err := real(ctx, o)
			pruned.Add(int64(len(res.Runs)))
			return res, err
		}
		return j
	}

	// The first janitor's pass holds the lock until the second has tried its own.
	tried := make(chan struct{})
	first, second := newJanitor(func() { <-tried }), newJanitor(func() {})
	done := make(chan error, 1)
	go func() {
		_, ran, err := first.Once(b.ctx)
		if err == nil && !ran {
			err = errors.New("did not get the free lock")
		}
		done <- err
	}()
	b.wait("the first janitor's prune", 20*time.Second, func() bool { return passes.Load() == 1 })
	if res, ran, err := second.Once(b.ctx); err != nil || ran || len(res.Runs) != 0 {
		t.Errorf("second Janitor.Once() during the first's prune = %d runs, %v, %v; want nothing, not run, nil", len(res.Runs), ran, err)
	}
	close(tried)
	if err := <-done; err != nil {
		t.Fatalf("first Janitor.Once() = %v", err)
	}
	if n := pruned.Load(); n != 20 {
		t.Fatalf("the first pass pruned %d runs, want the 20 finished ones", n)
	}

	// Side by side, until each has had a few passes.
	ctx, cancel := context.WithCancel(b.ctx)
	var wg sync.WaitGroup
	for _, j := range []*Janitor{newJanitor(runtime.Gosched), newJanitor(runtime.Gosched)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Run(ctx); err != nil {
				t.Errorf("Janitor.Run() = %v, want nil", err)
			}
		}()
	}
	b.wait("several prune passes", 20*time.Second, func() bool { return passes.Load() >= 10 })
	cancel()
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d prunes ran while another janitor's prune was running, want 0", n)
	}
	if n := pruned.Load(); n != 20 {
		t.Errorf("janitors pruned %d runs, want the 20 finished ones once each", n)
	}
	if _, err := b.store.Run(b.ctx, "jan-open"); err != nil {
		t.Errorf("Run(jan-open) = %v, want the unfinished run kept", err)
	}
	if _, err := b.store.Run(b.ctx, "jan-05"); !errors.Is(err, jobs.ErrRunNotFound) {
		t.Errorf("Run(jan-05) = %v, want ErrRunNotFound", err)
	}
	if h, _ := b.store.LockHolder(b.ctx, JanitorLock); h != "" {
		t.Errorf("janitor lock still held by %q after both stopped", h)
	}
}

func TestJanitorRetentionZeroIsOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	finishedRun(t, b.store, "keep", false)
	j := NewJanitor(b.store, JanitorConfig{Retention: 0, Interval: time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- j.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run() = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run() with retention 0 did not return")
	}
	if _, err := b.store.Run(b.ctx, "keep"); err != nil {
		t.Errorf("Run(keep) = %v, want kept", err)
	}
}
