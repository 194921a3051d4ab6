package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// Two workers' janitors run side by side: never two prunes at once, every old finished run
// pruned once, the unfinished one kept.
func TestJanitorOnePrunesAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 20 {
		finishedRun(t, b.store, fmt.Sprintf("jan-%02d", i), false)
	}
	finishedRun(t, b.store, "jan-open", true)
	time.Sleep(5 * time.Millisecond) // older than the retention below

	var inPrune, overlaps, passes, pruned atomic.Int64
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newJanitor := func() *Janitor {
		j := NewJanitor(b.store, JanitorConfig{Retention: time.Millisecond, Interval: 3 * time.Millisecond, LockTTL: time.Second, Logger: quiet})
		real := j.prune
		j.prune = func(ctx context.Context, o jobs.PruneOptions) (jobs.PruneResult, error) {
			if inPrune.Add(1) > 1 {
				overlaps.Add(1)
			}
			defer inPrune.Add(-1)
			passes.Add(1)
			time.Sleep(15 * time.Millisecond) // a long pass, for the other janitor to try its luck
			res, err := real(ctx, o)
			pruned.Add(int64(len(res.Runs)))
			return res, err
		}
		return j
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		j := newJanitor()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Run(ctx); err != nil {
				t.Errorf("Janitor.Run() = %v, want nil", err)
			}
		}()
	}
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d prunes ran while another janitor's prune was running, want 0", n)
	}
	if passes.Load() < 2 {
		t.Errorf("%d prune passes in 400ms, want several", passes.Load())
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
