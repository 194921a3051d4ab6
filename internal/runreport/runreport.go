// Package runreport writes a run's report, as the report command does: to a stream, or to a
// file written whole (an existing file is kept, and the report goes to the next numbered name
// unless forced), saying what was written and whether the run is finished.
package runreport

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"reactivator/internal/oneshot"
	"reactivator/internal/status"
	"reactivator/jobs"
	"reactivator/jobs/report"
	"reactivator/jobs/reportfile"
)

// FormatOf is the report format a file's name asks for: json for .json, md for .md and
// .markdown, else "" (the caller's default).
func FormatOf(path string) string {
	if path == "" || path == "-" {
		return ""
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "json"
	case ".md", ".markdown":
		return "md"
	}
	return ""
}

// Request is one report to write.
type Request struct {
	// RunID is the run's id, or a unique prefix of it.
	RunID  string
	Report jobs.ReportOptions
	// Output is the file to write; "" or "-" writes to Out.
	Output string
	// Force overwrites an existing Output; otherwise the report goes to the next numbered name.
	Force bool
	// Out gets the report when there is no Output; Err gets what was written where.
	Out, Err io.Writer
}

// Parse sets q.Report's format and outcomes from the report command's --format (or, when
// formatSet is false, the Output file's extension over format) and --outcome. Its errors are
// bad command lines.
func (q *Request) Parse(format string, formatSet bool, outcomes string) error {
	if f := FormatOf(q.Output); !formatSet && f != "" {
		format = f
	}
	f, err := jobs.ParseReportFormat(format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	only, err := jobs.ParseOutcomes(outcomes)
	if err != nil {
		return fmt.Errorf("--outcome: %w", err)
	}
	q.Report.Format, q.Report.Outcomes = f, only
	return nil
}

// Write writes the report q asks for.
func Write(ctx context.Context, store *jobs.Store, q Request) error {
	runID, err := status.ResolveRun(ctx, store, q.RunID)
	if err != nil {
		return err
	}
	out := q.Output
	if out == "" || out == "-" {
		_, err := report.Write(ctx, q.Out, store, runID, q.Report)
		return err
	}
	n, err := reportfile.Free(q.Force, out)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(q.Err, "%s exists: kept it; --force overwrites it\n", out)
		out = reportfile.Numbered(out, n)
	}
	sum, err := oneshot.WriteReport(ctx, store, runID, out, q.Report, false)
	if err != nil {
		return err
	}
	what := "rows"
	if q.Report.Format == jobs.ReportMarkdown {
		what = "failures summarised"
	}
	fmt.Fprintf(q.Err, "wrote %s: %d %s of run %s (%s)\n", out, sum.Written, what, runID, sum.State)
	if sum.State != jobs.RunFinished {
		fmt.Fprintf(q.Err, "the run is not finished: %d rows are still pending; run report again once `reactivator status %s --wait` returns\n", sum.Pending, runID)
	}
	return nil
}
