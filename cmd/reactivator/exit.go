// This file maps the error a command returns to the process exit code, in one function, and
// makes cobra's command-line errors usage errors where cobra makes them.

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"reactivator/internal/runwait"
	"reactivator/jobs"
)

// Exit codes, the same for run, ingest --wait and status --wait (docs/design.md).
const (
	exitOK          = 0   // every row reactivated (or a duplicate of one)
	exitError       = 1   // config, I/O, Redis, unreadable file
	exitUsage       = 2   // bad command line
	exitSomeFailed  = 3   // finished, some rows not reactivated
	exitFatal       = 4   // stopped by a fatal provider error (credentials, permissions)
	exitInterrupted = 130 // interrupted; progress is kept and the same command resumes
)

// usageErr is a bad command line: a flag, an argument or their combination (exit 2).
type usageErr struct{ err error }

func (e *usageErr) Error() string { return e.err.Error() }
func (e *usageErr) Unwrap() error { return e.err }

// usage returns err as a bad command line.
func usage(err error) error { return &usageErr{err: err} }

// usageError returns a bad command line, formatted.
func usageError(format string, args ...any) error { return usage(fmt.Errorf(format, args...)) }

// interrupted, fatal and notAllReactivated return err as the ending its name says, message unchanged.
func interrupted(err error) error       { return runwait.Mark(runwait.ErrInterrupted, err) }
func fatal(err error) error             { return runwait.Mark(jobs.ErrFatal, err) }
func notAllReactivated(err error) error { return runwait.Mark(runwait.ErrNotAllReactivated, err) }

// exitCode is the process exit code of err, the error of a command run with ctx: 0 for nil, 2 a
// bad command line, 130 interrupted (or ctx ended the command), 4 a fatal provider answer, 3 some
// rows not reactivated, else 1.
func exitCode(ctx context.Context, err error) int {
	var ue *usageErr
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, runwait.ErrInterrupted), errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return exitInterrupted
	case errors.Is(err, jobs.ErrFatal):
		return exitFatal
	case errors.Is(err, runwait.ErrNotAllReactivated):
		return exitSomeFailed
	}
	return exitError
}

// typeUsageErrors makes every command-line error cobra returns for root and its subcommands a
// usage error: bad flags (SetFlagErrorFunc), bad arguments (each command's Args), and missing
// required flags or flag groups (checked in root's PersistentPreRunE, before cobra's own check).
func typeUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	var wrap func(c *cobra.Command)
	wrap = func(c *cobra.Command) {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return usage(err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			wrap(sub)
		}
	}
	wrap(root)
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return usage(err)
		}
		if err := cmd.ValidateFlagGroups(); err != nil {
			return usage(err)
		}
		if pre != nil {
			return pre(cmd, args)
		}
		return nil
	}
}

// findCommand resolves args to a subcommand as cobra's Execute will; the only error cobra's Find
// returns is an unknown command, a usage error. Shell completion requests are left to cobra.
// Call it after cobra's help and completion commands were added.
func findCommand(root *cobra.Command, args []string) error {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return nil
	}
	if _, _, err := root.Find(args); err != nil {
		return usage(err)
	}
	return nil
}
