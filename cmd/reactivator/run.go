// This file is the run command, the one-shot path from CSV files to reports (oneshot.Files): check
// the credentials, ingest each file as a run, work its rows in this process, wait, write the reports.

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/oneshot"
	"reactivator/internal/redisconn"
)

// runFlags are the run command's own flags (oneshot.FilesRequest).
type runFlags struct {
	fileFlags
	serveFlags
	report string
	// force overwrites existing reports instead of numbering the new ones.
	force bool
	// limit, when more than 0, calls only the first limit rows of each run not done yet (a canary).
	limit int
	// yes skips the confirmation asked on a terminal.
	yes bool
	// asJSON prints the outcome as one JSON document (oneshot.Result).
	asJSON bool
	embed  redisconn.Embed
}

// Validate checks the flags of run that fileFlags and serveFlags do not.
func (f runFlags) Validate() error {
	if f.limit < 0 {
		return usageError("--limit %d: want a number of rows, 1 or more (0: no limit)", f.limit)
	}
	return nil
}

func (a *app) runCmd() *cobra.Command {
	var pf providerFlags
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE.csv...",
		Short: "Reactivate the accounts of CSV files in one go: check, queue, call, wait, report",
		Long: `run does everything in one process: it checks the credentials of each file's provider with a
read-only call (exit 4 when refused, nothing called), queues each file as a run, calls the
provider for every row at the rate limit with retries, waits until every row has its outcome,
and writes each run's report.

Without --redis or REDIS_URL it keeps its queue in a private redis-server whose state lives in
--state-dir, else REACTIVATOR_STATE_DIR, else $XDG_STATE_HOME/reactivator/redis (when
XDG_STATE_HOME is an absolute path), else ~/.local/state/reactivator/redis: press Ctrl-C and the
calls in flight finish, the progress is kept, and the same command resumes where it stopped,
calling no account twice. Without redis-server installed it uses an in-process Redis, and says
so: such a run cannot resume.

The report of FILE.csv goes to FILE.csv.report.csv in the working directory, or --report PATH
(a directory when it ends in / or with several files; it is created). Rows that were not
reactivated also go to FILE.csv.failed.csv: fix them and feed that file to run again; its report
is FILE.csv.report.1.csv, with the same columns. An existing report is never overwritten: the new
one gets the next number, unless --force.

--limit N is a canary: it calls at most N rows of each run (the first N, in line order, that
have no outcome yet), writes the report of those and says how many rows remain (exit 0 or 3);
the same command without --limit then calls the rest, and no row twice.

On a terminal, run says what it will change (each file's provider, base URL, environment and
number of rows) and asks [y/N] before anything is queued or called; --yes skips the question.
Nothing is asked when stdin is not a terminal (cron, CI). An answer other than y or yes calls
and queues nothing and exits 1.

Exit codes: 0 every row reactivated (or a duplicate of one); 3 finished, some rows not
reactivated; 4 a provider refused the credentials or a permission (fix it, then run the same
command again); 130 interrupted (the same command resumes); 1 any other error; 2 a bad command
line.`,
		Example: `  # reactivate ZITADEL users; writes users.csv.report.csv
  export ZITADEL_URL=https://acme.zitadel.cloud ZITADEL_TOKEN_FILE=~/.zitadel-pat
  reactivator run users.csv

  # two Stytch files at 20 requests/s, reports into reports/
  export STYTCH_PROJECT_ID=project-live-... STYTCH_SECRET_FILE=~/.stytch-secret
  reactivator run --rate stytch=20 --report reports/ eu.csv us.csv

  # retry the rows that were not reactivated, once fixed
  reactivator run users.csv.failed.csv

  # a canary: call the first 10 rows, look at the report, then the rest
  reactivator run --limit 10 users.csv
  reactivator run users.csv

  # on a terminal, without the [y/N] question
  reactivator run --yes users.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			opts, err := f.Options(len(files))
			if err != nil {
				return err
			}
			if err := f.Validate(); err != nil {
				return err
			}
			s, err := a.session(pf, f.serveFlags, cmd.Flags().Changed("rate"))
			if err != nil {
				return err
			}
			s.NoCheck, s.Yes, s.Force, s.Embed = f.noCheck, f.yes, f.force, f.embed
			return oneshot.Files(cmd.Context(), oneshot.FilesRequest{Session: s, Files: files, Report: f.report,
				Options: opts, RunID: f.RunID, NewRun: f.NewRun, Limit: f.limit, JSON: f.asJSON})
		},
	}
	fs := cmd.Flags()
	f.fileFlags.register(fs)
	_ = cmd.RegisterFlagCompletionFunc("provider", completeProvider)
	f.serveFlags.register(fs)
	fs.StringVar(&f.report, "report", "", "where the report goes (default FILE.csv.report.csv; a directory when it ends in / or with several files)")
	fs.IntVar(&f.limit, "limit", 0, "call at most N rows of each run (in line order), then stop and say how many remain; the same command without --limit continues")
	fs.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation on a terminal")
	fs.BoolVar(&f.asJSON, "json", false, "print the runs' outcome as one JSON document on stdout (progress stays on stderr)")
	fs.BoolVar(&f.force, "force", false, "overwrite existing reports (default: keep them and number the new ones, FILE.csv.report.1.csv)")
	fs.StringVar(&f.embed.StateDir, "state-dir", "", "directory of the embedded redis-server's state (env REACTIVATOR_STATE_DIR; default $XDG_STATE_HOME/reactivator/redis, else ~/.local/state/reactivator/redis)")
	fs.BoolVar(&f.embed.InProcess, "in-process-redis", false, "use the in-process Redis even when redis-server is installed (an interrupted run cannot resume)")
	_ = fs.MarkHidden("in-process-redis")
	pf.register(fs)
	return cmd
}
