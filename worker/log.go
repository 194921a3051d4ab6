// This file lets the worker's asynq server log through slog, with internal/asynqlog's adapter,
// which never exits the process.

package worker

import (
	"log/slog"

	"reactivator/internal/asynqlog"
)

// slogAdapter is asynq's logger over l (internal/asynqlog).
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { asynqlog.New(a.l).Debug(args...) }
func (a slogAdapter) Info(args ...any)  { asynqlog.New(a.l).Info(args...) }
func (a slogAdapter) Warn(args ...any)  { asynqlog.New(a.l).Warn(args...) }
func (a slogAdapter) Error(args ...any) { asynqlog.New(a.l).Error(args...) }

// Fatal logs at error level and returns: asynq calls it, and a library never ends the process.
func (a slogAdapter) Fatal(args ...any) { asynqlog.New(a.l).Fatal(args...) }
