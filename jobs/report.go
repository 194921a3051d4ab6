// This file holds what a report is: its formats, the options that choose its rows, its columns
// and the summary it gives of its run. Package jobs/report renders it from the rows the store
// streams.

package jobs

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReportFormat is the format of a report.
type ReportFormat string

// The report formats.
const (
	// ReportCSV is one row per input row, valid input for ingest when failed-only.
	ReportCSV ReportFormat = "csv"
	// ReportJSON is a summary and the rows.
	ReportJSON ReportFormat = "json"
	// ReportMarkdown is a summary for humans, with the first failures.
	ReportMarkdown ReportFormat = "md"
)

// ParseOutcomes reads a list of outcomes separated by commas (report --outcome).
func ParseOutcomes(s string) ([]Outcome, error) {
	var out []Outcome
	for _, f := range strings.Split(s, ",") {
		o := Outcome(strings.ToLower(strings.TrimSpace(f)))
		if o == "" {
			continue
		}
		if !o.Valid() {
			names := make([]string, len(Outcomes))
			for i, k := range Outcomes {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("unknown outcome %q (want one or more of %s, separated by commas)", o, strings.Join(names, ", "))
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

// ParseReportFormat returns the format named s (csv, json, md or markdown; case-insensitive).
func ParseReportFormat(s string) (ReportFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "csv":
		return ReportCSV, nil
	case "json":
		return ReportJSON, nil
	case "md", "markdown":
		return ReportMarkdown, nil
	}
	return "", fmt.Errorf("unknown report format %q (want csv, json or md)", s)
}

// ReportOptions say which report package jobs/report writes.
type ReportOptions struct {
	// Format is the report's format; "" means csv.
	Format ReportFormat
	// FailedOnly keeps only the rows the operator has to look at (OutcomeRecord.Failure): the
	// permanent failures, without the not_deactivated rows whose account is active. Pending rows
	// are left out. A failed-only CSV is valid input for ingest, and its report has the same
	// columns. Markdown always lists failures only, so it ignores this.
	FailedOnly bool
	// Outcomes, when not empty, keeps only the rows that ended with one of them (and, with
	// FailedOnly, are failures too). "pending" is not an outcome: pending rows are left out.
	Outcomes []Outcome
}

// ReportSummary is what a report says about its run as a whole. Counts and timings are the
// run's when the report began; on a finished run they match the rows exactly.
type ReportSummary struct {
	RunID    string
	Provider Provider
	File     string
	State    RunState
	// Status is the run's state in the words the CLI and the dashboard use.
	Status Status
	// Rows is the number of input rows of the run; -1 while the run is still ingesting.
	Rows int
	// Counts is the number of rows per outcome.
	Counts map[Outcome]int
	// Pending is the number of rows without an outcome yet.
	Pending int
	// Failures is the number of rows that ended as a permanent failure.
	Failures int
	// Written is the number of rows the report holds; for Markdown, the failures it counted
	// (it lists the first 50).
	Written       int
	CreatedAt     time.Time
	FirstCallAt   time.Time
	LastOutcomeAt time.Time
	FinishedAt    time.Time
	// Duration is the time from the first call to the last outcome, 0 when unknown.
	Duration time.Duration
	// Rate is rows per second over Duration, 0 when unknown.
	Rate float64
}

// ReportSummary returns what a report says about run r; providerPaused says whether its
// provider's queue is paused.
func (r Run) ReportSummary(providerPaused bool) ReportSummary {
	s := ReportSummary{
		RunID: r.ID, Provider: r.Provider, File: r.File, State: r.State, Status: r.Status(providerPaused), Rows: r.Total,
		Counts: r.Counts, Failures: r.Failures(), CreatedAt: r.CreatedAt, FirstCallAt: r.FirstCallAt,
		LastOutcomeAt: r.LastOutcomeAt, FinishedAt: r.FinishedAt, Rate: r.Rate(),
	}
	s.Pending = max(0, r.Pending())
	if !r.FirstCallAt.IsZero() && r.LastOutcomeAt.After(r.FirstCallAt) {
		s.Duration = r.LastOutcomeAt.Sub(r.FirstCallAt)
	}
	return s
}

// ReportColumns are the report's own columns, in order; the input's extra columns follow.
var ReportColumns = []string{"line", "provider", "organization_id", "member_id", "user_id", "outcome",
	"reason", "http_status", "request_id", "attempts", "finished_at", "message"}
