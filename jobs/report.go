// This file is responsible for rendering a run's report as CSV, JSON or Markdown, streamed row by row.

package jobs

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
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

// ReportOptions say what report WriteReport writes.
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

func summaryOf(r Run, providerPaused bool) ReportSummary {
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

// pendingOutcome is what a report shows for a row without an outcome yet.
const pendingOutcome = "pending"

// reservedColumns are header names an extra column may not keep: the report's own columns and
// ingest's aliases of the id columns, so that re-ingesting a report cannot mistake an extra
// column for one of ours.
var reservedColumns = func() map[string]bool {
	m := map[string]bool{"org_id": true, "member": true, "id": true}
	for _, c := range ReportColumns {
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

// neutraliseID is NeutraliseCell for the id columns, which a failed-only report must hand back to
// ingest unchanged. Stytch slugs and external ids may start with '-' (their alphabet is letters,
// digits and - . _ ~); such a cell can only be arithmetic or a cell reference in a spreadsheet,
// never a function call or a DDE link, so it is kept as is. Anything else is neutralised: no
// valid id of either provider starts with = + @ tab or CR.
func neutraliseID(s string) string {
	if strings.HasPrefix(s, "-") && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") == "" {
		return s
	}
	return NeutraliseCell(s)
}

// reportRow is a ReportRow flattened into the report's fields.
type reportRow struct {
	Line       int
	Provider   Provider
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
	outcome    Outcome
}

func flatten(r ReportRow, nExtra int) reportRow {
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
		if r.Provider == Stytch && f.MemberID == "" {
			f.MemberID = o.ResolvedID
		}
		if r.Provider == Zitadel && f.UserID == "" {
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

// rowWriter writes one format's report.
type rowWriter interface {
	begin(s ReportSummary, extra []string) error
	row(r reportRow) error
	end(written int) error
}

// WriteReport writes the report of a run to w, streaming its rows in line order so that memory
// stays flat whatever the run's size. Rows without an outcome yet appear as "pending" unless
// o.FailedOnly. It returns the run's summary, or ErrRunNotFound.
func (s *Store) WriteReport(ctx context.Context, w io.Writer, runID string, o ReportOptions) (ReportSummary, error) {
	var rw rowWriter
	switch o.Format {
	case "", ReportCSV:
		rw = &csvReport{w: csv.NewWriter(w)}
	case ReportJSON:
		rw = &jsonReport{w: bufio.NewWriter(w)}
	case ReportMarkdown:
		rw = &mdReport{w: bufio.NewWriter(w)}
	default:
		return ReportSummary{}, fmt.Errorf("report of run %s: unknown format %q (want csv, json or md)", runID, o.Format)
	}
	run, err := s.Run(ctx, runID)
	if err != nil {
		return ReportSummary{}, err
	}
	paused, err := s.Paused(ctx)
	if err != nil {
		return ReportSummary{}, err
	}
	_, isPaused := paused[run.Provider]
	sum := summaryOf(run, isPaused)
	extra := extraColumns(run.Columns)
	wrap := func(err error) error { return fmt.Errorf("write report of run %s: %w", runID, err) }
	if err := rw.begin(sum, extra); err != nil {
		return sum, wrap(err)
	}
	_, isMD := rw.(*mdReport)
	err = s.EachRow(ctx, runID, func(r ReportRow) error {
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

// csvReport writes the CSV report: a header, then one neutralised record per row.
type csvReport struct {
	w   *csv.Writer
	rec []string
}

func (c *csvReport) begin(_ ReportSummary, extra []string) error {
	header := make([]string, 0, len(ReportColumns)+len(extra))
	header = append(header, ReportColumns...)
	for _, e := range extra {
		header = append(header, NeutraliseCell(e))
	}
	c.rec = make([]string, len(header))
	return c.w.Write(header)
}

func (c *csvReport) row(r reportRow) error {
	rec := append(c.rec[:0],
		strconv.Itoa(r.Line), NeutraliseCell(string(r.Provider)),
		neutraliseID(r.OrgID), neutraliseID(r.MemberID), neutraliseID(r.UserID),
		NeutraliseCell(r.Outcome), NeutraliseCell(r.Reason), itoaNonZero(r.HTTPStatus),
		NeutraliseCell(r.RequestID), itoaNonZero(r.Attempts), r.FinishedAt, NeutraliseCell(r.Message))
	for _, e := range r.Extra {
		rec = append(rec, NeutraliseCell(e))
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

// jsonSummary is the summary object of the JSON report.
type jsonSummary struct {
	RunID           string          `json:"run_id"`
	Provider        Provider        `json:"provider"`
	File            string          `json:"file"`
	State           RunState        `json:"state"`
	Status          Status          `json:"status"`
	Rows            int             `json:"rows"`
	Counts          map[Outcome]int `json:"counts"`
	Pending         int             `json:"pending"`
	Failures        int             `json:"failures"`
	CreatedAt       string          `json:"created_at,omitempty"`
	FirstCallAt     string          `json:"first_call_at,omitempty"`
	FinishedAt      string          `json:"finished_at,omitempty"`
	DurationSeconds float64         `json:"duration_seconds"`
	RatePerSecond   float64         `json:"rate_per_second"`
}

// jsonRow is one row of the JSON report.
type jsonRow struct {
	Line           int        `json:"line"`
	Provider       Provider   `json:"provider"`
	OrganizationID string     `json:"organization_id"`
	MemberID       string     `json:"member_id"`
	UserID         string     `json:"user_id"`
	Outcome        string     `json:"outcome"`
	Reason         string     `json:"reason,omitempty"`
	HTTPStatus     int        `json:"http_status,omitempty"`
	RequestID      string     `json:"request_id,omitempty"`
	Attempts       int        `json:"attempts,omitempty"`
	FinishedAt     string     `json:"finished_at,omitempty"`
	Message        string     `json:"message,omitempty"`
	Extra          jsonObject `json:"extra"`
}

// jsonObject is a JSON object of strings that keeps its keys' order.
type jsonObject struct{ keys, vals []string }

func (o jsonObject) MarshalJSON() ([]byte, error) {
	if len(o.keys) == 0 {
		return []byte("{}"), nil
	}
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(o.vals[i])
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// jsonReport writes {"summary":{…},"rows":[…]}, one row at a time.
type jsonReport struct {
	w     *bufio.Writer
	extra []string
	n     int
}

func (j *jsonReport) begin(s ReportSummary, extra []string) error {
	j.extra = extra
	counts := s.Counts
	if counts == nil {
		counts = map[Outcome]int{}
	}
	b, err := json.Marshal(jsonSummary{
		RunID: s.RunID, Provider: s.Provider, File: s.File, State: s.State, Status: s.Status, Rows: s.Rows, Counts: counts,
		Pending: s.Pending, Failures: s.Failures, CreatedAt: rfc3339(s.CreatedAt), FirstCallAt: rfc3339(s.FirstCallAt),
		FinishedAt: rfc3339(s.FinishedAt), DurationSeconds: s.Duration.Seconds(), RatePerSecond: s.Rate,
	})
	if err != nil {
		return err
	}
	j.w.WriteString(`{"summary":`)
	j.w.Write(b)
	_, err = j.w.WriteString(",\n\"rows\":[")
	return err
}

func (j *jsonReport) row(r reportRow) error {
	b, err := json.Marshal(jsonRow{
		Line: r.Line, Provider: r.Provider, OrganizationID: r.OrgID, MemberID: r.MemberID, UserID: r.UserID,
		Outcome: r.Outcome, Reason: r.Reason, HTTPStatus: r.HTTPStatus, RequestID: r.RequestID,
		Attempts: r.Attempts, FinishedAt: r.FinishedAt, Message: r.Message,
		Extra: jsonObject{keys: j.extra, vals: r.Extra},
	})
	if err != nil {
		return err
	}
	if j.n > 0 {
		j.w.WriteByte(',')
	}
	j.n++
	j.w.WriteByte('\n')
	_, err = j.w.Write(b)
	return err
}

func (j *jsonReport) end(int) error {
	j.w.WriteString("\n]}\n")
	return j.w.Flush()
}

// mdFailureRows is how many failure rows the Markdown report lists.
const mdFailureRows = 50

// mdReport writes the Markdown summary: counts with advice, timings, the first failures.
type mdReport struct {
	w     *bufio.Writer
	runID string
	n     int // failure rows seen
}

// mdCell makes s safe inside a Markdown table cell: no line breaks, no column breaks, no HTML.
var mdCell = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "\\`")

func (m *mdReport) begin(s ReportSummary, _ []string) error {
	m.runID = s.RunID
	w := m.w
	fmt.Fprintf(w, "# Reactivation report: %s\n\n", mdCell.Replace(s.RunID))
	rows := "still ingesting"
	if s.Rows >= 0 {
		rows = strconv.Itoa(s.Rows)
	}
	fmt.Fprintf(w, "Provider %s, file %s, %s rows, %s.\n\n", s.Provider, mdCell.Replace(s.File), rows, s.Status)
	w.WriteString("| outcome | rows | what to do |\n|---|---:|---|\n")
	for _, o := range Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(w, "| %s | %d | %s |\n", o, n, o.Advice())
		}
	}
	if s.Pending > 0 {
		fmt.Fprintf(w, "| %s | %d | not called yet: wait for the run to finish |\n", pendingOutcome, s.Pending)
	}
	w.WriteString("\n## Timings\n\n")
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"created", s.CreatedAt}, {"first call", s.FirstCallAt}, {"last outcome", s.LastOutcomeAt}, {"finished", s.FinishedAt}} {
		v := "-"
		if !t.at.IsZero() {
			v = rfc3339(t.at)
		}
		fmt.Fprintf(w, "- %s: %s\n", t.name, v)
	}
	fmt.Fprintf(w, "- calling time: %s\n- rate: %.3g rows/s\n", s.Duration.Round(time.Millisecond), s.Rate)
	_, err := fmt.Fprintf(w, "\n## Failures\n\n")
	return err
}

func (m *mdReport) row(r reportRow) error {
	m.n++
	if m.n > mdFailureRows {
		return nil
	}
	w := m.w
	if m.n == 1 {
		w.WriteString("| line | ids | outcome | message |\n|---:|---|---|---|\n")
	}
	var ids []string
	for _, id := range []struct{ name, v string }{{"organization_id", r.OrgID}, {"member_id", r.MemberID}, {"user_id", r.UserID}} {
		if id.v != "" {
			ids = append(ids, id.name+"="+id.v)
		}
	}
	msg := r.Message
	if r.Reason != "" {
		msg = strings.TrimSpace(r.Reason + ": " + msg)
	}
	_, err := fmt.Fprintf(w, "| %d | %s | %s | %s |\n", r.Line, mdCell.Replace(strings.Join(ids, " ")), r.Outcome, mdCell.Replace(msg))
	return err
}

func (m *mdReport) end(written int) error {
	w := m.w
	all := fmt.Sprintf("`reactivator report %s --failed-only -o failed.csv`", m.runID)
	switch {
	case written == 0:
		w.WriteString("None.\n")
	case written > mdFailureRows:
		fmt.Fprintf(w, "\nShowing the first %d of %d failures; %s lists them all and is valid input for `reactivator run` or `ingest`.\n",
			mdFailureRows, written, all)
	default:
		fmt.Fprintf(w, "\n%s lists them as a CSV that is valid input for `reactivator run` or `ingest`.\n", all)
	}
	return w.Flush()
}
