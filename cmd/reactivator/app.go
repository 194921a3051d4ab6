// This file builds the root command, the global flags and the mapping of errors to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"reactivator/internal/version"
)

// Exit codes, the same for run, ingest --wait and status --wait (design.md).
const (
	exitOK          = 0   // every row reactivated (or a duplicate of one)
	exitError       = 1   // config, I/O, Redis, unreadable file
	exitUsage       = 2   // bad command line
	exitSomeFailed  = 3   // finished, some rows not reactivated
	exitFatal       = 4   // stopped by a fatal provider error (credentials, permissions)
	exitInterrupted = 130 // interrupted; progress is kept and the same command resumes
)

// exitError carries an exit code through cobra's error return.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *codeError) Unwrap() error { return e.err }

// withCode returns err with an exit code; a nil err with a code exits quietly with it.
func withCode(code int, err error) error { return &codeError{code: code, err: err} }

// usageError marks a bad command line (exit 2).
func usageError(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// app is one invocation: its streams, environment and global flags. Commands hang off it.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	redisURL  string
	redisCA   string
	logFormat string
	logLevel  string
	log       *slog.Logger
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Logs, progress and messages reach the same streams from several goroutines: one lock each
	// keeps their lines whole.
	stdout, stderr = &syncWriter{w: stdout}, &syncWriter{w: stderr}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce *codeError
	code := exitError
	if errors.As(err, &ce) {
		code = ce.code
	} else if isUsage(err) {
		code = exitUsage
	} else if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		code = exitInterrupted
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "reactivator: %s\n", msg)
		if code == exitUsage {
			fmt.Fprintln(stderr, "Run 'reactivator --help' for usage.")
		}
	}
	return code
}

// isUsage recognises cobra's own command-line errors, which it returns as plain errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "reactivator",
		Short: "Restore deactivated Stytch B2B members and ZITADEL users in bulk",
		Long: `reactivator restores deactivated accounts in bulk. Hand it CSV files of Stytch B2B
organization/member ids or ZITADEL user ids: it queues one task per row in Redis, rate-limited
workers call the provider's reactivate endpoint with retries, and every row ends with exactly one
outcome. Rows that could not be restored land in a report you can fix and feed back in.`,
		Example: `  # try everything against built-in fake providers
  reactivator demo

  # one-shot: check credentials, queue, work, wait, write users.csv.report.csv
  export ZITADEL_URL=https://acme.zitadel.cloud ZITADEL_TOKEN_FILE=~/.zitadel-pat
  reactivator run users.csv

  # a fleet: queue on a shared Redis, serve with workers, watch
  export REDIS_URL=redis://redis:6379/0
  reactivator ingest members.csv
  reactivator worker
  reactivator status --watch`,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLogging()
		},
	}
	root.Long += "\n\n" + envHelp()
	root.SetVersionTemplate("reactivator {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.redisURL, "redis", "", "Redis URL: redis://, rediss://, unix://, redis-sentinel:// (env REDIS_URL)")
	pf.StringVar(&a.redisCA, "redis-ca", "", "CA certificate file for rediss:// (env REDIS_CA_FILE)")
	pf.StringVar(&a.logFormat, "log-format", "", "log format: text or json (default text on a terminal, json otherwise)")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	for _, c := range a.commands() {
		root.AddCommand(c)
	}
	return root
}

// commands lists every subcommand; each lives in a file of its own.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.checkCmd(),
		a.statusCmd(),
		a.ingestCmd(),
		a.workerCmd(),
		a.runCmd(),
		a.demoCmd(),
		a.reportCmd(),
		a.dashCmd(),
		a.schedulerCmd(),
		a.fakeidpCmd(),
		a.cancelCmd(),
		a.resumeCmd(),
	}
}

func (a *app) setupLogging() error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usageError("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	format := a.logFormat
	if format == "" {
		format = "json"
		if a.isTerminal(a.stderr) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return usageError("--log-format %q: want text or json", a.logFormat)
	}
	return nil
}

// syncWriter serialises writes to one stream.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Fd returns the file descriptor of the stream behind s, so terminal checks see through it; a
// stream that is no file gives an invalid descriptor.
func (s *syncWriter) Fd() uintptr {
	if f, ok := s.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// isTerminal reports whether w is a terminal (progress bars and text logs go there).
func (a *app) isTerminal(w io.Writer) bool {
	if sw, ok := w.(*syncWriter); ok {
		w = sw.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
