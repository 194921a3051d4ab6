// Package asynqlog lets asynq's servers and schedulers log through log/slog. Its logger never
// exits the process: asynq's Fatal is logged as an error, and the program decides what follows.
// Quiet turns a logger down for the in-process worker of a one-shot command.
package asynqlog

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/hibiken/asynq"
)

// New returns an asynq.Logger that writes to l with component=asynq.
func New(l *slog.Logger) asynq.Logger { return logger{l: l} }

// logger is asynq's logger interface over slog.
type logger struct{ l *slog.Logger }

func (a logger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a logger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }

// Warn logs at warn level, except asynq's "Retry exhausted", which it says of every task that
// ended with SkipRetry: a permanent failure the handler already recorded and logged. That goes
// to debug, out of the operator's way.
func (a logger) Warn(args ...any) {
	msg := fmt.Sprint(args...)
	if strings.HasPrefix(msg, "Retry exhausted") {
		a.l.Debug(msg, "component", "asynq")
		return
	}
	a.l.Warn(msg, "component", "asynq")
}

func (a logger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal logs at error level and returns: a library never ends the process.
func (a logger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
