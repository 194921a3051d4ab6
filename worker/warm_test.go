package worker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// goroutineID reads the running goroutine's id from its stack's first line.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := bytes.Cut(bytes.TrimPrefix(buf, []byte("goroutine ")), []byte(" "))
	return string(id)
}

type ctxKey struct{}

func TestWarmStacksRunTasksOnAKeptGoroutine(t *testing.T) {
	w := newWarmStacks(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ids []string
	wantErr := errors.New("the handler's own error")
	h := w.wrap(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		ids = append(ids, goroutineID())
		if ctx.Value(ctxKey{}) != "task" {
			t.Errorf("the handler's ctx lost the task's value")
		}
		return wantErr
	}))
	ctx := context.WithValue(context.Background(), ctxKey{}, "task")
	for range 20 {
		caller := goroutineID()
		if err := h.ProcessTask(ctx, asynq.NewTask("x", nil)); !errors.Is(err, wantErr) {
			t.Fatalf("ProcessTask = %v, want the handler's error", err)
		}
		if ids[len(ids)-1] == caller {
			t.Fatalf("the handler ran on the caller's goroutine %s, want a kept one", caller)
		}
		// Give the kept goroutine time to wait for the next task (a task handed over while it
		// is still finishing the last one starts another goroutine, as it should).
		time.Sleep(5 * time.Millisecond)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(seen) == len(ids) {
		t.Errorf("20 tasks one after the other ran on 20 goroutines, want kept goroutines reused")
	}
}

func TestWarmStacksRaisePanicsOnTheCallersGoroutine(t *testing.T) {
	w := newWarmStacks(slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := w.wrap(asynq.HandlerFunc(func(context.Context, *asynq.Task) error { panic("boom") }))
	defer func() {
		if x := recover(); x != "boom" {
			t.Errorf("recovered %v on the caller's goroutine, want the handler's panic", x)
		}
	}()
	_ = h.ProcessTask(context.Background(), asynq.NewTask("x", nil))
	t.Error("ProcessTask returned; want the handler's panic")
}
