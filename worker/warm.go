// This file runs the reactivate handler on goroutines kept between tasks: asynq starts a
// goroutine per task, whose stack grows from 8 KB while the task calls Redis, makes its HTTP
// call and decodes the answer, copied each time it doubles. A kept goroutine keeps its grown
// stack (until the garbage collector shrinks it).

package worker

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
)

// warmIdle is how long a kept goroutine waits for another task before it exits.
const warmIdle = 10 * time.Second

// warmStacks hands tasks to kept goroutines. The zero value is not usable: newWarmStacks.
type warmStacks struct {
	work chan func()
	log  *slog.Logger
}

func newWarmStacks(log *slog.Logger) *warmStacks {
	return &warmStacks{work: make(chan func()), log: log}
}

// wrap returns h run on a kept goroutine. asynq's goroutine of the task waits for it, so what
// asynq sees is unchanged: the same context (its deadline, cancellation and task metadata), the
// handler's error, its duration, and its panic, raised again on asynq's goroutine, where asynq
// recovers it as before (the panic's own stack is logged first).
func (w *warmStacks) wrap(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		var (
			err      error
			panicked any
			stack    []byte
		)
		done := make(chan struct{})
		run := func() {
			defer func() {
				if x := recover(); x != nil {
					panicked, stack = x, debug.Stack()
				}
				close(done)
			}()
			err = h.ProcessTask(ctx, t)
		}
		select {
		case w.work <- run:
		default:
			go w.keep(run)
		}
		<-done
		if panicked != nil {
			w.log.Error("task handler panicked", "type", t.Type(), "panic", panicked, "stack", string(stack))
			panic(panicked)
		}
		return err
	})
}

// keep runs a task, then the tasks handed to it, until none comes for warmIdle.
func (w *warmStacks) keep(run func()) {
	idle := time.NewTimer(warmIdle)
	defer idle.Stop()
	for {
		run()
		idle.Reset(warmIdle)
		select {
		case run = <-w.work:
		case <-idle.C:
			return
		}
	}
}
