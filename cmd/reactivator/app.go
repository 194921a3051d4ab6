// This file builds the root command and the global flags, and runs one command line.

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"reactivator/internal/config"
	"reactivator/internal/logthrottle"
	"reactivator/internal/progress"
	"reactivator/internal/version"
)

// app is one invocation: its streams, environment and global flags. Commands hang off it.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            config.Env

	redisURL  string
	redisCA   string
	logFormat string
	logLevel  string
	// logEvery is how often a repeating warning or error is logged (logthrottle).
	logEvery time.Duration
	log      *slog.Logger
}

// ownsProcess is true when run serves the process's own command line (main), so that it may set
// what is global to the process, such as go-redis's logger.
var ownsProcess bool

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Logs, progress and messages reach the same streams from several goroutines: one lock each
	// keeps their lines whole.
	stdout, stderr = &syncWriter{w: stdout}, &syncWriter{w: stderr}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, env: getenv}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// cobra adds its help and completion commands in Execute; add them now, so that every
	// command-line error it can return is typed before it runs.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd(args...)
	typeUsageErrors(root)
	err := findCommand(root, args)
	if err == nil {
		err = root.ExecuteContext(ctx)
	}
	code := exitCode(ctx, err)
	if err == nil {
		return code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "reactivator: %s\n", msg)
		if code == exitUsage {
			fmt.Fprintln(stderr, "Run 'reactivator --help' for usage.")
		}
	}
	return code
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
	root.Long += "\n\n" + config.Help()
	root.SetVersionTemplate("reactivator {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&a.redisURL, "redis", "", "Redis URL: redis://, rediss://, unix://, redis-sentinel:// (env REDIS_URL)")
	pf.StringVar(&a.redisCA, "redis-ca", "", "CA certificate file for rediss:// (env REDIS_CA_FILE)")
	pf.StringVar(&a.logFormat, "log-format", "", "log format: text or json (default text on a terminal, json otherwise)")
	pf.DurationVar(&a.logEvery, "log-repeat-interval", logthrottle.DefaultInterval, "a warning or error that repeats is logged once, then at most once per this interval")
	_ = pf.MarkHidden("log-repeat-interval")
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
		a.pruneCmd(),
		a.findCmd(),
		a.planCmd(),
		a.undoCmd(),
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
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(a.stderr, opts)
	case "json":
		h = slog.NewJSONHandler(a.stderr, opts)
	default:
		return usageError("--log-format %q: want text or json", a.logFormat)
	}
	// A repeating warning (a worker that cannot reach Redis) is written once a minute, with how
	// often it happened; go-redis's own lines come out through the same handler and format.
	a.log = slog.New(logthrottle.New(h, a.logEvery, nil))
	if ownsProcess {
		// go-redis has one logger per process: only the process's own command line sets it
		// (tests run many command lines in one process, each with its own streams).
		redis.SetLogger(logthrottle.RedisLogger{L: a.log})
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

// terminalReader is a stdin that says whether it is a terminal (tests answer the confirmation
// through one).
type terminalReader interface{ IsTerminal() bool }

// stdinIsTerminal reports whether stdin is a terminal, where run and undo ask for confirmation.
func (a *app) stdinIsTerminal() bool {
	if t, ok := a.stdin.(terminalReader); ok {
		return t.IsTerminal()
	}
	f, ok := a.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newBar returns a progress reporter on stderr: a bar on a terminal, plain lines otherwise.
func (a *app) newBar(label string, total int) *progress.Bar {
	return progress.New(a.stderr, a.isTerminal(a.stderr), label, total)
}
