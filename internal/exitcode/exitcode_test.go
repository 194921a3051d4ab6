// This file checks that every exit code comes from the typed error that gives it.

package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"reactivator/internal/runwait"
	"reactivator/jobs"
)

// TestOf covers every exit code from the typed error that gives it.
func TestOf(t *testing.T) {
	t.Parallel()
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"no error", live, nil, OK},
		{"plain error", live, errors.New("redis at x does not answer"), Error},
		{"usage", live, Usagef("--rate %q: bad", "x"), Usage},
		{"wrapped usage", live, fmt.Errorf("while parsing: %w", AsUsage(errors.New("bad"))), Usage},
		{"not all reactivated", live, runwait.Mark(runwait.ErrNotAllReactivated, errors.New("3 of 9 rows not reactivated")), SomeFailed},
		{"wait result not all reactivated", live, runwait.Result{Ending: runwait.NotAllReactivated}.Err(), SomeFailed},
		{"fatal", live, runwait.Mark(jobs.ErrFatal, errors.New("stytch refused the credentials")), Fatal},
		{"provider error wrapping ErrFatal", live, fmt.Errorf("stytch check: 401: %w", jobs.ErrFatal), Fatal},
		{"wait result paused", live, runwait.Result{Ending: runwait.Paused, Paused: []jobs.Pause{{Provider: jobs.Stytch}}}.Err(), Fatal},
		{"fatal wrapped with context", live, fmt.Errorf("%w: nothing was called", runwait.Mark(jobs.ErrFatal, errors.New("refused"))), Fatal},
		{"interrupted", live, runwait.Mark(runwait.ErrInterrupted, errors.New("interrupted: progress kept")), Interrupted},
		{"wait result interrupted", live, runwait.Result{Ending: runwait.Interrupted}.Err(), Interrupted},
		{"cancelled by the command's context", ended, fmt.Errorf("read: %w", context.Canceled), Interrupted},
		{"cancelled, command's context live", live, context.Canceled, Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Of(tc.ctx, tc.err); got != tc.want {
				t.Errorf("Of(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestMarksKeepTheMessage checks that typing an error does not change what the user reads.
func TestMarksKeepTheMessage(t *testing.T) {
	t.Parallel()
	err := errors.New("stytch refused the credentials")
	for name, mark := range map[string]func(error) error{
		"AsUsage":             AsUsage,
		"interrupted":         func(err error) error { return runwait.Mark(runwait.ErrInterrupted, err) },
		"fatal":               func(err error) error { return runwait.Mark(jobs.ErrFatal, err) },
		"not all reactivated": func(err error) error { return runwait.Mark(runwait.ErrNotAllReactivated, err) },
	} {
		if got := mark(err); got.Error() != err.Error() || !errors.Is(got, err) {
			t.Errorf("%s(%q) = %q, want the same message, wrapping it", name, err, got)
		}
	}
}
