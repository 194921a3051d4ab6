// This file builds the root command and the global flags, and runs one command line.

package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"reactivator/internal/config"
	"reactivator/internal/console"
	"reactivator/internal/exitcode"
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

	// isTerminal reports whether a stream is a terminal; stdinIsTerminal whether stdin is one,
	// where run and undo ask for confirmation; newBar returns a progress reporter on stderr.
	isTerminal      func(io.Writer) bool
	stdinIsTerminal func() bool
	newBar          func(label string, total int) *progress.Bar
}

// ownsProcess is true when run serves the process's own command line (main), so that it may set
// what is global to the process, such as go-redis's logger.
var ownsProcess bool

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Logs, progress and messages reach the same streams from several goroutines: one lock each
	// keeps their lines whole.
	stdout, stderr = console.Sync(stdout), console.Sync(stderr)
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, env: getenv, isTerminal: console.IsTerminal,
		stdinIsTerminal: func() bool { return console.InIsTerminal(stdin) }, newBar: console.Bars(stderr)}
	root := a.rootCmd()
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return exitcode.Run(ctx, root, args, stderr)
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
		// The process's logger, from --log-format, --log-level and --log-repeat-interval.
		PersistentPreRunE: func(*cobra.Command, []string) (err error) {
			if a.log, err = console.Logger(a.stderr, a.logFormat, a.logLevel, a.logEvery); err != nil {
				return usage(err)
			}
			if ownsProcess {
				// go-redis has one logger per process: only the process's own command line sets
				// it (tests run many command lines in one process, each with its own streams).
				redis.SetLogger(logthrottle.RedisLogger{L: a.log})
			}
			return nil
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
	// Each subcommand lives in a file of its own.
	root.AddCommand(a.checkCmd(), a.statusCmd(), a.ingestCmd(), a.workerCmd(), a.runCmd(), a.demoCmd(),
		a.reportCmd(), a.dashCmd(), a.schedulerCmd(), a.fakeidpCmd(), a.cancelCmd(), a.resumeCmd(),
		a.pruneCmd(), a.findCmd(), a.planCmd(), a.undoCmd())
	return root
}
