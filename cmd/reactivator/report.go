// This file is the report command: it writes a run's report, every row with its outcome, as CSV,
// JSON or Markdown, to stdout or to a file (internal/runreport).

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/runreport"
)

// reportOptions are the report command's flags.
type reportOptions struct {
	runreport.Request
	format, outcomes string
}

func (a *app) reportCmd() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Write a run's report: every row with its outcome",
		Long: `report writes the report of a run: one row per input row, sorted by line, with its outcome,
reason, HTTP status, the provider's request id, attempts and message, then the input's extra
columns. Rows still waiting for a worker show as pending.

--format csv (the default, or from the -o file's extension) is for spreadsheets and scripts;
json has a summary (counts per outcome, timings, rate) and the rows; md is a summary for humans
with the first failures and what to do about each kind. --failed-only keeps the rows to look at
(not reactivated, and not found already active): that CSV is valid input for run and ingest, and
the report of such a run has the same columns, so fix the accounts and feed it back in, as often
as it takes. --outcome keeps the rows with the outcomes named. An existing -o file is kept: the
report goes to the next numbered name (FILE.1.csv) unless --force.`,
		Example: `  # the whole report as CSV
  reactivator report stytch-3f2a9c1b7d4e -o members.report.csv

  # the rows to fix, then queue them again as a new run once fixed
  reactivator report stytch-3f2a9c1b7d4e --failed-only -o failed.csv
  reactivator ingest failed.csv

  # only the rows not found or failed after retries
  reactivator report stytch-3f2a9c1b7d4e --outcome not_found,failed -o retry.csv

  # a summary to paste into a ticket
  reactivator report stytch-3f2a9c1b7d4e --format md`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeRun,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.RunID = args[0]
			if err := o.Parse(o.format, cmd.Flags().Changed("format"), o.outcomes); err != nil {
				return usage(err)
			}
			rc, err := a.runsRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer a.closeRedis(rc)
			o.Out, o.Err = a.stdout, a.stderr
			return runreport.Write(cmd.Context(), rc.Store, o.Request)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "csv", "csv, json or md (default csv, or from the -o file's extension)")
	fs.BoolVar(&o.Report.FailedOnly, "failed-only", false, "only the rows not reactivated (valid input for ingest)")
	fs.StringVarP(&o.Output, "output", "o", "", "write to this file instead of stdout (an existing file is kept: the report goes to FILE.1.csv, unless --force)")
	fs.StringVar(&o.outcomes, "outcome", "", "only the rows with these outcomes, e.g. not_found,failed")
	fs.BoolVar(&o.Force, "force", false, "overwrite the -o file when it exists")
	return cmd
}
