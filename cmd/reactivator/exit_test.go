package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"reactivator/internal/runwait"
	"reactivator/jobs"
)

// TestExitCode covers every exit code from the typed error that gives it.
func TestExitCode(t *testing.T) {
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
		{"no error", live, nil, exitOK},
		{"plain error", live, errors.New("redis at x does not answer"), exitError},
		{"usage", live, usageError("--rate %q: bad", "x"), exitUsage},
		{"wrapped usage", live, fmt.Errorf("while parsing: %w", usage(errors.New("bad"))), exitUsage},
		{"not all reactivated", live, notAllReactivated(errors.New("3 of 9 rows not reactivated")), exitSomeFailed},
		{"wait result not all reactivated", live, runwait.Result{Ending: runwait.NotAllReactivated}.Err(), exitSomeFailed},
		{"fatal", live, fatal(errors.New("stytch refused the credentials")), exitFatal},
		{"provider error wrapping ErrFatal", live, fmt.Errorf("stytch check: 401: %w", jobs.ErrFatal), exitFatal},
		{"wait result paused", live, runwait.Result{Ending: runwait.Paused, Paused: []jobs.Pause{{Provider: jobs.Stytch}}}.Err(), exitFatal},
		{"fatal wrapped with context", live, fmt.Errorf("%w: nothing was called", fatal(errors.New("refused"))), exitFatal},
		{"interrupted", live, interrupted(errors.New("interrupted: progress kept")), exitInterrupted},
		{"wait result interrupted", live, runwait.Result{Ending: runwait.Interrupted}.Err(), exitInterrupted},
		{"cancelled by the command's context", ended, fmt.Errorf("read: %w", context.Canceled), exitInterrupted},
		{"cancelled, command's context live", live, context.Canceled, exitError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.ctx, tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestUsageIsTyped checks that command-line errors exit 2 because they are typed where cobra
// makes them, and that an error whose text reads like cobra's is not one.
func TestUsageIsTyped(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"status", "--frob"}, nil, exitUsage, "unknown flag: --frob"},
		{"flag without value", []string{"status", "--redis"}, nil, exitUsage, "flag needs an argument"},
		{"bad flag value", []string{"worker", "--concurrency", "many"}, nil, exitUsage, "invalid argument"},
		{"too many arguments", []string{"status", "a", "b"}, nil, exitUsage, "accepts at most 1 arg"},
		{"required flag", []string{"scheduler"}, nil, exitUsage, `required flag(s) "config" not set`},
		{"error text like cobra's", []string{"status"}, map[string]string{
			"REDIS_URL": "rediss://127.0.0.1:1/0", "REDIS_CA_FILE": "/x/invalid argument.pem"}, exitError, "REDIS_CA_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				w.setenv(k, v)
			}
			r := w.run(tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v = %s\nwant exit %d and %q on stderr", tc.args, r, tc.code, tc.want)
			}
			if hint := strings.Contains(r.stderr, "--help"); hint != (tc.code == exitUsage) {
				t.Errorf("%v: stderr names --help: %v, want %v", tc.args, hint, tc.code == exitUsage)
			}
		})
	}
}
