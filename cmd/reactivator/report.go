// This file is the report command: it writes a run's report, every row with its outcome, as CSV,
// JSON or Markdown, to stdout or to a file.

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"reactivator/internal/oneshot"
	"reactivator/jobs"
	"reactivator/jobs/reportfile"
)

func (a *app) reportCmd() *cobra.Command {
	var format, out, outcomes string
	var failedOnly, force bool
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
			if !cmd.Flags().Changed("format") && out != "" && out != "-" {
				switch strings.ToLower(filepath.Ext(out)) {
				case ".json":
					format = "json"
				case ".md", ".markdown":
					format = "md"
				}
			}
			f, err := jobs.ParseReportFormat(format)
			if err != nil {
				return usageError("--format: %v", err)
			}
			only, err := jobs.ParseOutcomes(outcomes)
			if err != nil {
				return usageError("--outcome: %v", err)
			}
			return a.report(cmd.Context(), args[0], jobs.ReportOptions{Format: f, FailedOnly: failedOnly, Outcomes: only}, out, force)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&format, "format", "csv", "csv, json or md (default csv, or from the -o file's extension)")
	fs.BoolVar(&failedOnly, "failed-only", false, "only the rows not reactivated (valid input for ingest)")
	fs.StringVarP(&out, "output", "o", "", "write to this file instead of stdout (an existing file is kept: the report goes to FILE.1.csv, unless --force)")
	fs.StringVar(&outcomes, "outcome", "", "only the rows with these outcomes, e.g. not_found,failed")
	fs.BoolVar(&force, "force", false, "overwrite the -o file when it exists")
	return cmd
}

func (a *app) report(ctx context.Context, runID string, o jobs.ReportOptions, out string, force bool) error {
	rc, err := a.runsRedis(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if runID, err = resolveRun(ctx, rc.store, runID); err != nil {
		return err
	}
	if out == "" || out == "-" {
		if _, err := rc.store.WriteReport(ctx, a.stdout, runID, o); err != nil {
			return err
		}
		return nil
	}
	n, err := reportfile.Free(force, out)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(a.stderr, "%s exists: kept it; --force overwrites it\n", out)
		out = reportfile.Numbered(out, n)
	}
	sum, err := oneshot.WriteReport(ctx, rc.store, runID, out, o, false)
	if err != nil {
		return err
	}
	what := "rows"
	if o.Format == jobs.ReportMarkdown {
		what = "failures summarised"
	}
	fmt.Fprintf(a.stderr, "wrote %s: %d %s of run %s (%s)\n", out, sum.Written, what, runID, sum.State)
	if sum.State != jobs.RunFinished {
		fmt.Fprintf(a.stderr, "the run is not finished: %d rows are still pending; run report again once `reactivator status %s --wait` returns\n", sum.Pending, runID)
	}
	return nil
}
