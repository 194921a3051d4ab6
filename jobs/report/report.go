// This file holds Write, which renders any format from the rows a Source streams, and the CSV
// report.

package report

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"reactivator/jobs"
)

// Source is what a report is rendered from; *jobs.Store is one.
type Source interface {
	// Run returns the run of that id, or jobs.ErrRunNotFound.
	Run(ctx context.Context, id string) (jobs.Run, error)
	// Paused returns the providers whose queue is paused (the run's status says so).
	Paused(ctx context.Context) (map[jobs.Provider]jobs.Pause, error)
	// EachRow calls fn for every input row of a run in line order.
	EachRow(ctx context.Context, runID string, fn func(jobs.ReportRow) error) error
}

// pendingOutcome is what a report shows for a row without an outcome yet.
const pendingOutcome = "pending"

// Write writes the report of run runID, read from src, to w, streaming its rows in line order.
// Rows without an outcome yet appear as "pending" unless o.FailedOnly. It returns the run's
// summary, or jobs.ErrRunNotFound, or jobs.ErrRunPruning for a run half pruned.
func Write(ctx context.Context, w io.Writer, src Source, runID string, o jobs.ReportOptions) (jobs.ReportSummary, error) {
	var rw rowWriter
	switch o.Format {
	case "", jobs.ReportCSV:
		rw = &csvReport{w: csv.NewWriter(w)}
	case jobs.ReportJSON:
		rw = &jsonReport{w: bufio.NewWriter(w)}
	case jobs.ReportMarkdown:
		rw = &mdReport{w: bufio.NewWriter(w)}
	default:
		return jobs.ReportSummary{}, fmt.Errorf("report of run %s: unknown format %q (want csv, json or md)", runID, o.Format)
	}
	run, err := src.Run(ctx, runID)
	if err != nil {
		return jobs.ReportSummary{}, err
	}
	if run.Pruning {
		return jobs.ReportSummary{}, fmt.Errorf("report of run %s: %w", runID, jobs.ErrRunPruning)
	}
	paused, err := src.Paused(ctx)
	if err != nil {
		return jobs.ReportSummary{}, err
	}
	_, isPaused := paused[run.Provider]
	sum := run.ReportSummary(isPaused)
	extra := extraColumns(run.Columns)
	wrap := func(err error) error { return fmt.Errorf("write report of run %s: %w", runID, err) }
	if err := rw.begin(sum, extra); err != nil {
		return sum, wrap(err)
	}
	_, isMD := rw.(*mdReport)
	err = src.EachRow(ctx, runID, func(r jobs.ReportRow) error {
		f := flatten(r, len(extra))
		if (o.FailedOnly || isMD) && !f.failure {
			return nil
		}
		if len(o.Outcomes) > 0 && (r.Pending || !slices.Contains(o.Outcomes, f.outcome)) {
			return nil
		}
		sum.Written++
		if err := rw.row(f); err != nil {
			return wrap(err)
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	if err := rw.end(sum.Written); err != nil {
		return sum, wrap(err)
	}
	return sum, nil
}

// rowWriter writes one format's report.
type rowWriter interface {
	begin(s jobs.ReportSummary, extra []string) error
	row(r reportRow) error
	end(written int) error
}

// reservedColumns are header names an extra column may not keep: the report's own columns and
// ingest's aliases of the id columns, so that re-ingesting a report cannot mistake an extra
// column for one of ours.
var reservedColumns = func() map[string]bool {
	m := map[string]bool{"org_id": true, "member": true, "id": true}
	for _, c := range jobs.ReportColumns {
		m[c] = true
	}
	return m
}()

// extraColumns returns the names the input's extra columns get in a report: a name that clashes
// (case-insensitively, ignoring surrounding spaces) with one of ours or with an earlier extra
// column gets the prefix input_, as often as needed.
func extraColumns(cols []string) []string {
	taken := make(map[string]bool, len(reservedColumns)+len(cols))
	for c := range reservedColumns {
		taken[c] = true
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		name := c
		for taken[strings.ToLower(strings.TrimSpace(name))] {
			name = "input_" + name
		}
		taken[strings.ToLower(strings.TrimSpace(name))] = true
		out[i] = name
	}
	return out
}

// neutraliseID is NeutraliseCell for the id columns, which a failed-only report must hand
// back to ingest unchanged. Stytch slugs and external ids may start with '-' (their alphabet is
// letters, digits and - . _ ~); such a cell can only be arithmetic or a cell reference in a
// spreadsheet, never a function call or a DDE link, so it is kept as is. Anything else is
// neutralised: no valid id of either provider starts with = + @ tab or CR.
func neutraliseID(s string) string {
	if strings.HasPrefix(s, "-") && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") == "" {
		return s
	}
	return NeutraliseCell(s)
}

// NeutraliseCell returns s made safe to open in a spreadsheet: a cell starting with =, +, -, @,
// tab or carriage return, which a spreadsheet would run as a formula, gets a leading single quote.
// Other cells are returned unchanged.
func NeutraliseCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// reportRow is a jobs.ReportRow flattened into the report's fields.
type reportRow struct {
	Line       int
	Provider   jobs.Provider
	OrgID      string
	MemberID   string
	UserID     string
	Outcome    string
	Reason     string
	HTTPStatus int
	RequestID  string
	Attempts   int
	FinishedAt string
	Message    string
	Extra      []string
	failure    bool // a row to look at (OutcomeRecord.Failure)
	outcome    jobs.Outcome
}

func flatten(r jobs.ReportRow, nExtra int) reportRow {
	in := make([]string, 3+nExtra)
	copy(in, r.Input)
	f := reportRow{Line: r.Line, Provider: r.Provider, OrgID: in[0], MemberID: in[1], UserID: in[2], Extra: in[3:]}
	if r.Pending {
		f.Outcome = pendingOutcome
		return f
	}
	o := r.Outcome
	if o.ResolvedID != "" {
		// A row named by email or login name: the report shows the account its lookup found, so
		// that a failed-only report carries the id (and still the email) back as input.
		if r.Provider == jobs.Stytch && f.MemberID == "" {
			f.MemberID = o.ResolvedID
		}
		if r.Provider == jobs.Zitadel && f.UserID == "" {
			f.UserID = o.ResolvedID
		}
		if f.OrgID == "" {
			f.OrgID = o.ResolvedOrg
		}
	}
	f.Outcome, f.Reason, f.HTTPStatus, f.RequestID, f.Attempts, f.Message =
		string(o.Outcome), o.Reason, o.HTTPStatus, o.RequestID, o.Attempts, o.Message
	if !o.FinishedAt.IsZero() {
		f.FinishedAt = o.FinishedAt.UTC().Format(time.RFC3339)
	}
	f.failure = o.Failure()
	f.outcome = o.Outcome
	return f
}

// csvReport writes the CSV report: a header, then one neutralised record per row.
type csvReport struct {
	w   *csv.Writer
	rec []string
}

func (c *csvReport) begin(_ jobs.ReportSummary, extra []string) error {
	header := make([]string, 0, len(jobs.ReportColumns)+len(extra))
	header = append(header, jobs.ReportColumns...)
	for _, e := range extra {
		header = append(header, NeutraliseCell(e))
	}
	c.rec = make([]string, len(header))
	return c.w.Write(header)
}

func (c *csvReport) row(r reportRow) error {
	n := NeutraliseCell
	rec := append(c.rec[:0],
		strconv.Itoa(r.Line), n(string(r.Provider)),
		neutraliseID(r.OrgID), neutraliseID(r.MemberID), neutraliseID(r.UserID),
		n(r.Outcome), n(r.Reason), itoaNonZero(r.HTTPStatus),
		n(r.RequestID), itoaNonZero(r.Attempts), r.FinishedAt, n(r.Message))
	for _, e := range r.Extra {
		rec = append(rec, n(e))
	}
	return c.w.Write(rec)
}

func (c *csvReport) end(int) error {
	c.w.Flush()
	return c.w.Error()
}

func itoaNonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
