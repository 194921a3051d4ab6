// Package exitcode maps the error a command ends with to the process exit code, in one function
// (Of), from the error's type: a usage error (UsageError, made where the command line is checked,
// cobra's own checks included, typed by Execute), or an error marked with runwait's kinds or
// jobs.ErrFatal. It never reads an error's text. The codes are those of docs/design.md.
package exitcode

import (
	"context"
	"errors"
	"fmt"

	"reactivator/internal/runwait"
	"reactivator/jobs"
)

// Exit codes, the same for run, ingest --wait and status --wait (docs/design.md).
const (
	OK          = 0   // every row reactivated (or a duplicate of one)
	Error       = 1   // config, I/O, Redis, unreadable file
	Usage       = 2   // bad command line
	SomeFailed  = 3   // finished, some rows not reactivated
	Fatal       = 4   // stopped by a fatal provider error (credentials, permissions)
	Interrupted = 130 // interrupted; progress is kept and the same command resumes
)

// UsageError is a bad command line: a flag, an argument or their combination (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// AsUsage returns err as a bad command line, message unchanged.
func AsUsage(err error) error { return &UsageError{Err: err} }

// Usagef returns a bad command line, formatted as fmt.Errorf does.
func Usagef(format string, args ...any) error { return AsUsage(fmt.Errorf(format, args...)) }

// Of is the process exit code of err, the error of a command run with ctx: OK for nil, Usage for
// a UsageError, Interrupted for runwait.ErrInterrupted (or context.Canceled once ctx has ended),
// Fatal for jobs.ErrFatal, SomeFailed for runwait.ErrNotAllReactivated, else Error.
func Of(ctx context.Context, err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return OK
	case errors.As(err, &ue):
		return Usage
	case errors.Is(err, runwait.ErrInterrupted), errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return Interrupted
	case errors.Is(err, jobs.ErrFatal):
		return Fatal
	case errors.Is(err, runwait.ErrNotAllReactivated):
		return SomeFailed
	}
	return Error
}
