package jobs

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"reactivator/internal/redistest"
)

var (
	tAdd   = time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)
	tBegin = time.Date(2025, 3, 4, 5, 1, 0, 0, time.UTC)
	tRec   = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
)

// fixtureRow is one input row of a test run and how it ends.
type fixtureRow struct {
	line             int
	org, member, usr string
	extra            []string
	invalid          string         // recorded as invalid by AddRows
	rec              *OutcomeRecord // nil: pending, or duplicate when its ids repeat an earlier row
}

func rec(o Outcome, status int, reqID string, attempts int, msg string) *OutcomeRecord {
	return &OutcomeRecord{Outcome: o, HTTPStatus: status, RequestID: reqID, Attempts: attempts, Message: msg, FinishedAt: tRec}
}

// stytchFixture has a row of every outcome, a pending row, a blank line (12), formula-like cells
// in messages and extra columns, an invalid row with a formula for an id, and a slug starting with -.
var stytchColumns = []string{"email", "Outcome", "note"}

func stytchFixture() []fixtureRow {
	confirmed := rec(Reactivated, 400, "req-11", 2, "")
	confirmed.Reason = ReasonConfirmedOnRetry
	return []fixtureRow{
		{line: 2, org: "organization-test-1", member: "member-test-a", extra: []string{"a@x.io", "", ""}, rec: rec(Reactivated, 200, "req-2", 1, "")},
		{line: 3, org: "organization-test-1", member: "member-test-b", extra: []string{"b@x.io", "", ""}, rec: rec(NotDeactivated, 400, "req-3", 1, "member is active")},
		{line: 4, org: "organization-test-1", member: "member-test-c", extra: []string{"c@x.io", "", ""}, rec: rec(UnverifiedEmail, 400, "req-4", 1, "no verified email")},
		{line: 5, org: "organization-test-2", member: "member-test-d", extra: []string{"d@x.io", "", ""}, rec: rec(NotFound, 404, "req-5", 1, "member_not_found")},
		{line: 6, org: "organization-test-2", member: "member-test-e", extra: []string{"e@x.io", "=1+1", "@SUM(A1:A9)"}, rec: rec(Rejected, 400, "req-6", 1, `=HYPERLINK("http://evil","x")`)},
		{line: 7, org: "organization-test-2", member: "member-test-f", extra: []string{"f@x.io", "-2+3", "\tindented"}, rec: rec(Failed, 503, "", 5, "+503 after 5 attempts")},
		{line: 8, org: "=cmd|' /C calc'!A0", member: "member-test-g", extra: []string{"g@x.io", "\rcr", ""}, invalid: "organization_id: contains whitespace"},
		{line: 9, org: "organization-test-1", member: "member-test-a", extra: []string{"a@x.io", "", "again"}},
		{line: 10, org: "organization-test-3", member: "member-test-h", extra: []string{"h@x.io", "", ""}, rec: rec(Cancelled, 0, "", 0, "run cancelled before this row was called")},
		{line: 11, org: "organization-test-3", member: "member-test-i", extra: []string{"i@x.io", "", ""}, rec: confirmed},
		{line: 13, org: "organization-test-3", member: "member-test-j", extra: []string{"j@x.io", "", ""}},
		{line: 14, org: "-acme", member: "member-test-k", extra: []string{"k@x.io", "", ""}, rec: rec(NotFound, 404, "req-14", 1, "organization_not_found")},
	}
}

// wantStytchCSV is the full CSV report of stytchFixture, cell by cell.
var wantStytchCSV = [][]string{
	{"line", "provider", "organization_id", "member_id", "user_id", "outcome", "reason", "http_status", "request_id", "attempts", "finished_at", "message", "email", "input_Outcome", "note"},
	{"2", "stytch", "organization-test-1", "member-test-a", "", "reactivated", "", "200", "req-2", "1", "2025-03-04T05:06:07Z", "", "a@x.io", "", ""},
	{"3", "stytch", "organization-test-1", "member-test-b", "", "not_deactivated", "", "400", "req-3", "1", "2025-03-04T05:06:07Z", "member is active", "b@x.io", "", ""},
	{"4", "stytch", "organization-test-1", "member-test-c", "", "unverified_email", "", "400", "req-4", "1", "2025-03-04T05:06:07Z", "no verified email", "c@x.io", "", ""},
	{"5", "stytch", "organization-test-2", "member-test-d", "", "not_found", "", "404", "req-5", "1", "2025-03-04T05:06:07Z", "member_not_found", "d@x.io", "", ""},
	{"6", "stytch", "organization-test-2", "member-test-e", "", "rejected", "", "400", "req-6", "1", "2025-03-04T05:06:07Z", `'=HYPERLINK("http://evil","x")`, "e@x.io", "'=1+1", "'@SUM(A1:A9)"},
	{"7", "stytch", "organization-test-2", "member-test-f", "", "failed", "", "503", "", "5", "2025-03-04T05:06:07Z", "'+503 after 5 attempts", "f@x.io", "'-2+3", "'\tindented"},
	{"8", "stytch", "'=cmd|' /C calc'!A0", "member-test-g", "", "invalid", "", "", "", "", "2025-03-04T05:00:00Z", "organization_id: contains whitespace", "g@x.io", "'\rcr", ""},
	{"9", "stytch", "organization-test-1", "member-test-a", "", "duplicate", "", "", "", "", "2025-03-04T05:00:00Z", "duplicate of line 2", "a@x.io", "", "again"},
	{"10", "stytch", "organization-test-3", "member-test-h", "", "cancelled", "", "", "", "", "2025-03-04T05:06:07Z", "run cancelled before this row was called", "h@x.io", "", ""},
	{"11", "stytch", "organization-test-3", "member-test-i", "", "reactivated", "confirmed_on_retry", "400", "req-11", "2", "2025-03-04T05:06:07Z", "", "i@x.io", "", ""},
	{"13", "stytch", "organization-test-3", "member-test-j", "", "pending", "", "", "", "", "", "", "j@x.io", "", ""},
	{"14", "stytch", "-acme", "member-test-k", "", "not_found", "", "404", "req-14", "1", "2025-03-04T05:06:07Z", "organization_not_found", "k@x.io", "", ""},
}

// failedLines are the lines of stytchFixture that ended as a permanent failure.
var failedLines = []int{3, 4, 5, 6, 7, 8, 10, 14}

// setupReport returns a store on a fresh database whose clock reads tAdd.
func setupReport(t testing.TB) (*Store, context.Context) {
	t.Helper()
	s := NewStore(redistest.Shared(t).Client(t))
	s.now = func() time.Time { return tAdd }
	return s, context.Background()
}

// buildRun records a run of rows through the store API, as ingest and the workers would.
func buildRun(t testing.TB, s *Store, ctx context.Context, id string, p Provider, cols []string, rows []fixtureRow) {
	t.Helper()
	if _, created, err := s.CreateRun(ctx, Run{ID: id, Provider: p, File: id + ".csv", Columns: cols}); err != nil || !created {
		t.Fatalf("CreateRun(%s) = created %v, %v; want true, nil", id, created, err)
	}
	in := make([]IngestRow, len(rows))
	for i, r := range rows {
		in[i] = IngestRow{
			Row:     Row{Line: r.line, Provider: p, OrgID: r.org, MemberID: r.member, UserID: r.usr},
			Input:   append([]string{r.org, r.member, r.usr}, r.extra...),
			Invalid: r.invalid,
		}
	}
	if _, err := s.AddRows(ctx, id, in); err != nil {
		t.Fatalf("AddRows(%s) = %v", id, err)
	}
	s.now = func() time.Time { return tBegin }
	for _, r := range rows {
		if r.rec == nil {
			continue
		}
		if _, err := s.Begin(ctx, Zitadel, id, r.line); err != nil {
			t.Fatalf("Begin(%s, %d) = %v", id, r.line, err)
		}
		if ok, _, err := s.Record(ctx, id, r.line, *r.rec); err != nil || !ok {
			t.Fatalf("Record(%s, %d) = %v, %v; want true, nil", id, r.line, ok, err)
		}
	}
	if _, err := s.SetTotal(ctx, id, len(rows)); err != nil {
		t.Fatalf("SetTotal(%s) = %v", id, err)
	}
}

func render(t testing.TB, s *Store, ctx context.Context, id string, o ReportOptions) (string, ReportSummary) {
	t.Helper()
	var b bytes.Buffer
	sum, err := s.WriteReport(ctx, &b, id, o)
	if err != nil {
		t.Fatalf("WriteReport(%s, %+v) = %v", id, o, err)
	}
	return b.String(), sum
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll() // also checks every record has the header's width
	if err != nil {
		t.Fatalf("csv.ReadAll(report) = %v\n%s", err, s)
	}
	return recs
}

func TestParseReportFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     ReportFormat
		wantErr  bool
	}{
		{name: "csv", in: "csv", want: ReportCSV},
		{name: "json upper case", in: "JSON", want: ReportJSON},
		{name: "md", in: "md", want: ReportMarkdown},
		{name: "markdown", in: "markdown", want: ReportMarkdown},
		{name: "spaces", in: " csv ", want: ReportCSV},
		{name: "empty", in: "", wantErr: true},
		{name: "unknown", in: "xlsx", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseReportFormat(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseReportFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNeutraliseCell(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "equals", in: "=1+1", want: "'=1+1"},
		{name: "plus", in: "+1", want: "'+1"},
		{name: "minus", in: "-2+3", want: "'-2+3"},
		{name: "at", in: "@SUM(A1)", want: "'@SUM(A1)"},
		{name: "tab", in: "\t=1", want: "'\t=1"},
		{name: "carriage return", in: "\r=1", want: "'\r=1"},
		{name: "plain", in: "member-test-a", want: "member-test-a"},
		{name: "formula char later", in: "a=1", want: "a=1"},
		{name: "leading space", in: " =1", want: " =1"},
		{name: "already neutralised", in: "'=1", want: "'=1"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := NeutraliseCell(tt.in); got != tt.want {
				t.Errorf("NeutraliseCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNeutraliseID(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "slug starting with minus", in: "-acme.co_~x", want: "-acme.co_~x"},
		{name: "minus then formula", in: "-2+cmd|'/C calc'!A0", want: "'-2+cmd|'/C calc'!A0"},
		{name: "minus then paren", in: "-SUM(A1)", want: "'-SUM(A1)"},
		{name: "equals", in: "=1", want: "'=1"},
		{name: "at", in: "@x", want: "'@x"},
		{name: "plus", in: "+x", want: "'+x"},
		{name: "stytch id", in: "organization-test-1", want: "organization-test-1"},
		{name: "zitadel id", in: "268503924839120897", want: "268503924839120897"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := neutraliseID(tt.in); got != tt.want {
				t.Errorf("neutraliseID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExtraColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in, want []string
	}{
		{name: "none", in: nil, want: []string{}},
		{name: "no clash", in: []string{"email", "team"}, want: []string{"email", "team"}},
		{name: "our columns", in: []string{"line", "message", "outcome"}, want: []string{"input_line", "input_message", "input_outcome"}},
		{name: "case and spaces", in: []string{"Outcome", " USER_ID "}, want: []string{"input_Outcome", "input_ USER_ID "}},
		{name: "ingest aliases", in: []string{"org_id", "member", "ID"}, want: []string{"input_org_id", "input_member", "input_ID"}},
		{name: "prefixed name taken", in: []string{"input_line", "line"}, want: []string{"input_line", "input_input_line"}},
		{name: "repeated name", in: []string{"email", "email"}, want: []string{"email", "input_email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := extraColumns(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("extraColumns(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriteReportCSV(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	buildRun(t, s, ctx, "csv-all", Stytch, stytchColumns, stytchFixture())
	out, sum := render(t, s, ctx, "csv-all", ReportOptions{Format: ReportCSV})
	got := readCSV(t, out)
	if len(got) != len(wantStytchCSV) {
		t.Fatalf("WriteReport(csv) has %d records, want %d:\n%s", len(got), len(wantStytchCSV), out)
	}
	for i := range wantStytchCSV {
		if !slices.Equal(got[i], wantStytchCSV[i]) {
			t.Errorf("WriteReport(csv) record %d = %q, want %q", i, got[i], wantStytchCSV[i])
		}
	}
	want := ReportSummary{RunID: "csv-all", Provider: Stytch, File: "csv-all.csv", State: RunQueued, Status: StatusRunning, Rows: 12, Pending: 1,
		Failures: 8, Written: 12, CreatedAt: tAdd, FirstCallAt: tBegin, LastOutcomeAt: tRec, Duration: tRec.Sub(tBegin)}
	wantCounts := map[Outcome]int{Reactivated: 2, NotDeactivated: 1, UnverifiedEmail: 1, NotFound: 2, Rejected: 1, Failed: 1, Invalid: 1, Duplicate: 1, Cancelled: 1}
	gotCounts := sum.Counts
	sum.Counts, sum.Rate = nil, 0
	if fmt.Sprintf("%+v", sum) != fmt.Sprintf("%+v", want) {
		t.Errorf("WriteReport(csv) summary = %+v, want %+v", sum, want)
	}
	if fmt.Sprint(gotCounts) != fmt.Sprint(wantCounts) {
		t.Errorf("WriteReport(csv) counts = %v, want %v", gotCounts, wantCounts)
	}
}

func TestWriteReportDefaultFormatIsCSV(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	buildRun(t, s, ctx, "csv-default", Stytch, stytchColumns, stytchFixture())
	def, _ := render(t, s, ctx, "csv-default", ReportOptions{})
	csvOut, _ := render(t, s, ctx, "csv-default", ReportOptions{Format: ReportCSV})
	if def != csvOut {
		t.Errorf("WriteReport(format \"\") =\n%s\nwant the csv report\n%s", def, csvOut)
	}
}

// jsonReportDoc is the JSON report, as a consumer decodes it.
type jsonReportDoc struct {
	Summary struct {
		RunID           string         `json:"run_id"`
		Provider        string         `json:"provider"`
		File            string         `json:"file"`
		State           string         `json:"state"`
		Status          string         `json:"status"`
		Rows            int            `json:"rows"`
		Counts          map[string]int `json:"counts"`
		Pending         int            `json:"pending"`
		Failures        int            `json:"failures"`
		CreatedAt       string         `json:"created_at"`
		FirstCallAt     string         `json:"first_call_at"`
		FinishedAt      string         `json:"finished_at"`
		DurationSeconds float64        `json:"duration_seconds"`
		RatePerSecond   float64        `json:"rate_per_second"`
	} `json:"summary"`
	Rows []struct {
		Line           int               `json:"line"`
		Provider       string            `json:"provider"`
		OrganizationID string            `json:"organization_id"`
		MemberID       string            `json:"member_id"`
		UserID         string            `json:"user_id"`
		Outcome        string            `json:"outcome"`
		Reason         string            `json:"reason"`
		HTTPStatus     int               `json:"http_status"`
		RequestID      string            `json:"request_id"`
		Attempts       int               `json:"attempts"`
		FinishedAt     string            `json:"finished_at"`
		Message        string            `json:"message"`
		Extra          map[string]string `json:"extra"`
	} `json:"rows"`
}

func decodeJSONReport(t *testing.T, s string) jsonReportDoc {
	t.Helper()
	var doc jsonReportDoc
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("json.Decode(report) = %v\n%s", err, s)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("json report has trailing data (%v)", err)
	}
	return doc
}

func TestWriteReportJSON(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	fixture := stytchFixture()
	buildRun(t, s, ctx, "json-all", Stytch, stytchColumns, fixture)
	out, _ := render(t, s, ctx, "json-all", ReportOptions{Format: ReportJSON})
	doc := decodeJSONReport(t, out)

	sm := doc.Summary
	if sm.RunID != "json-all" || sm.Provider != "stytch" || sm.File != "json-all.csv" || sm.State != "queued" ||
		sm.Rows != 12 || sm.Pending != 1 || sm.Failures != 8 || sm.CreatedAt != "2025-03-04T05:00:00Z" ||
		sm.FirstCallAt != "2025-03-04T05:01:00Z" || sm.FinishedAt != "" || sm.DurationSeconds != 307 ||
		math.Abs(sm.RatePerSecond-11.0/307) > 1e-9 {
		t.Errorf("WriteReport(json) summary = %+v, want run json-all, stytch, queued, 12 rows, 1 pending, 8 failures, 307 s, 11/307 rows/s", sm)
	}
	// The summary's counts agree with the rows.
	tally := map[string]int{}
	for _, r := range doc.Rows {
		if r.Outcome != pendingOutcome {
			tally[r.Outcome]++
		}
	}
	if fmt.Sprint(tally) != fmt.Sprint(sm.Counts) {
		t.Errorf("WriteReport(json) counts = %v, want the rows' tally %v", sm.Counts, tally)
	}

	if len(doc.Rows) != len(wantStytchCSV)-1 {
		t.Fatalf("WriteReport(json) has %d rows, want %d", len(doc.Rows), len(wantStytchCSV)-1)
	}
	// JSON carries the true values; the CSV's neutralised cells lose their quote.
	unquote := func(s string) string {
		if rest, ok := strings.CutPrefix(s, "'"); ok && NeutraliseCell(rest) != rest {
			return rest
		}
		return s
	}
	for i, w := range wantStytchCSV[1:] {
		g := doc.Rows[i]
		got := []string{strconv.Itoa(g.Line), g.Provider, g.OrganizationID, g.MemberID, g.UserID, g.Outcome, g.Reason,
			itoaNonZero(g.HTTPStatus), g.RequestID, itoaNonZero(g.Attempts), g.FinishedAt, g.Message,
			g.Extra["email"], g.Extra["input_Outcome"], g.Extra["note"]}
		want := make([]string, len(w))
		for j, c := range w {
			want[j] = unquote(c)
		}
		if !slices.Equal(got, want) {
			t.Errorf("WriteReport(json) row %d = %q, want %q", i, got, want)
		}
		if len(g.Extra) != 3 {
			t.Errorf("WriteReport(json) row %d extra = %q, want 3 columns", i, g.Extra)
		}
	}
	// Spot-check that the unquoting above did not hide a raw value the fixture never had.
	if doc.Rows[4].Message != fixture[4].rec.Message || doc.Rows[6].OrganizationID != fixture[6].org {
		t.Errorf("WriteReport(json) rows 4, 6 = %q, %q; want %q, %q", doc.Rows[4].Message, doc.Rows[6].OrganizationID, fixture[4].rec.Message, fixture[6].org)
	}
}

func TestWriteReportFailedOnly(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	buildRun(t, s, ctx, "failed-only", Stytch, stytchColumns, stytchFixture())

	out, sum := render(t, s, ctx, "failed-only", ReportOptions{Format: ReportCSV, FailedOnly: true})
	recs := readCSV(t, out)
	if !slices.Equal(recs[0], wantStytchCSV[0]) {
		t.Errorf("WriteReport(csv, failed-only) header = %q, want %q", recs[0], wantStytchCSV[0])
	}
	var lines []int
	for _, r := range recs[1:] {
		n, _ := strconv.Atoi(r[0])
		lines = append(lines, n)
		if !Outcome(r[5]).Permanent() {
			t.Errorf("WriteReport(csv, failed-only) line %d has outcome %q, want a permanent failure", n, r[5])
		}
		// A failed-only record is the full report's record for that line.
		for _, w := range wantStytchCSV[1:] {
			if w[0] == r[0] && !slices.Equal(r, w) {
				t.Errorf("WriteReport(csv, failed-only) line %d = %q, want %q", n, r, w)
			}
		}
	}
	if !slices.Equal(lines, failedLines) || sum.Written != len(failedLines) {
		t.Errorf("WriteReport(csv, failed-only) lines = %v (written %d), want %v", lines, sum.Written, failedLines)
	}

	jout, _ := render(t, s, ctx, "failed-only", ReportOptions{Format: ReportJSON, FailedOnly: true})
	doc := decodeJSONReport(t, jout)
	lines = nil
	for _, r := range doc.Rows {
		lines = append(lines, r.Line)
	}
	if !slices.Equal(lines, failedLines) {
		t.Errorf("WriteReport(json, failed-only) lines = %v, want %v", lines, failedLines)
	}
	if doc.Summary.Pending != 1 || doc.Summary.Rows != 12 {
		t.Errorf("WriteReport(json, failed-only) summary = %d rows, %d pending; want the whole run's 12, 1", doc.Summary.Rows, doc.Summary.Pending)
	}
}

// TestFailedOnlyCSVIsIngestInput checks what jobs can check of a failed-only report being fed
// back to ingest (ingest imports jobs, so the re-read itself is ingest's test): the id columns
// are where ingest looks, hold the ids unchanged, and no extra column takes an id column's name.
func TestFailedOnlyCSVIsIngestInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider Provider
		cols     []string
		rows     []fixtureRow
		wantIDs  [][3]string // organization_id, member_id, user_id of each failed row
	}{
		{
			name: "stytch", provider: Stytch, cols: []string{"email", "member", "org_id"},
			rows: []fixtureRow{
				{line: 2, org: "organization-test-1", member: "member-test-a", extra: []string{"a@x.io", "m", "o"}, rec: rec(Reactivated, 200, "r", 1, "")},
				{line: 3, org: "-acme", member: "member-test-b", extra: []string{"b@x.io", "m", "o"}, rec: rec(NotFound, 404, "r", 1, "organization_not_found")},
				{line: 4, org: "acme_slug", member: "member-live-c", extra: []string{"=x", "m", "o"}, rec: rec(UnverifiedEmail, 400, "r", 1, "")},
			},
			wantIDs: [][3]string{{"-acme", "member-test-b", ""}, {"acme_slug", "member-live-c", ""}},
		},
		{
			name: "zitadel with org_id", provider: Zitadel, cols: []string{"id", "email"},
			rows: []fixtureRow{
				{line: 2, org: "2685039", usr: "2685100", extra: []string{"x", "a@x.io"}, rec: rec(NotDeactivated, 400, "r", 1, "")},
				{line: 3, org: "2685039", usr: "2685101", extra: []string{"y", "b@x.io"}, rec: rec(Reactivated, 200, "r", 1, "")},
				{line: 4, org: "", usr: "2685102", extra: []string{"z", "c@x.io"}, rec: rec(Failed, 503, "", 5, "")},
			},
			wantIDs: [][3]string{{"2685039", "", "2685100"}, {"", "", "2685102"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ctx := setupReport(t)
			id := "reingest-" + string(tt.provider)
			buildRun(t, s, ctx, id, tt.provider, tt.cols, tt.rows)
			out, _ := render(t, s, ctx, id, ReportOptions{Format: ReportCSV, FailedOnly: true})
			recs := readCSV(t, out)
			header := recs[0]
			if !slices.Equal(header[:len(ReportColumns)], ReportColumns) {
				t.Fatalf("WriteReport(failed-only) header = %q, want it to start with %q", header, ReportColumns)
			}
			seen := map[string]bool{}
			for _, h := range header {
				k := strings.ToLower(strings.TrimSpace(h))
				if seen[k] {
					t.Errorf("WriteReport(failed-only) header = %q: %q appears twice", header, h)
				}
				seen[k] = true
			}
			for _, h := range header[len(ReportColumns):] {
				if k := strings.ToLower(h); k == "org_id" || k == "member" || k == "id" {
					t.Errorf("WriteReport(failed-only) extra column %q would be read as an id column", h)
				}
			}
			if len(recs)-1 != len(tt.wantIDs) {
				t.Fatalf("WriteReport(failed-only) has %d rows, want %d:\n%s", len(recs)-1, len(tt.wantIDs), out)
			}
			for i, w := range tt.wantIDs {
				r := recs[i+1]
				if got := [3]string{r[2], r[3], r[4]}; got != w || r[1] != string(tt.provider) {
					t.Errorf("WriteReport(failed-only) row %d = provider %s ids %q, want %s %q", i, r[1], got, tt.provider, w)
				}
			}
		})
	}
}

func TestWriteReportPending(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	rows := []fixtureRow{
		{line: 2, usr: "100", rec: rec(Reactivated, 200, "r", 1, "")},
		{line: 3, usr: "101"},
		{line: 4, usr: "102"},
	}
	buildRun(t, s, ctx, "pending", Zitadel, nil, rows)

	out, sum := render(t, s, ctx, "pending", ReportOptions{})
	recs := readCSV(t, out)
	var outcomes []string
	for _, r := range recs[1:] {
		outcomes = append(outcomes, r[5]+"@"+r[10])
	}
	if want := []string{"reactivated@2025-03-04T05:06:07Z", "pending@", "pending@"}; !slices.Equal(outcomes, want) {
		t.Errorf("WriteReport(csv) outcomes = %q, want %q", outcomes, want)
	}
	if sum.Pending != 2 || sum.State != RunQueued {
		t.Errorf("WriteReport(csv) summary = %d pending, state %s; want 2, queued", sum.Pending, sum.State)
	}

	doc := decodeJSONReport(t, func() string { o, _ := render(t, s, ctx, "pending", ReportOptions{Format: ReportJSON}); return o }())
	if len(doc.Rows) != 3 || doc.Rows[1].Outcome != "pending" || doc.Rows[1].FinishedAt != "" || doc.Summary.Pending != 2 {
		t.Errorf("WriteReport(json) = %+v, want 3 rows, line 3 pending, 2 pending in the summary", doc)
	}

	if out, _ := render(t, s, ctx, "pending", ReportOptions{FailedOnly: true}); len(readCSV(t, out)) != 1 {
		t.Errorf("WriteReport(csv, failed-only) =\n%s\nwant the header only: pending rows are not failures", out)
	}

	md, _ := render(t, s, ctx, "pending", ReportOptions{Format: ReportMarkdown})
	if !strings.Contains(md, "| pending | 2 |") {
		t.Errorf("WriteReport(md) =\n%s\nwant a pending row with 2", md)
	}
}

func TestWriteReportLineOrder(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	if _, _, err := s.CreateRun(ctx, Run{ID: "order", Provider: Zitadel, File: "o.csv"}); err != nil {
		t.Fatal(err)
	}
	// Lines 2..2600 except every seventh (blank lines, multi-line rows), added newest first in
	// several batches, across EachRow's batch boundaries.
	var want []int
	var batch []IngestRow
	for l := 2600; l >= 2; l-- {
		if l%7 == 0 {
			continue
		}
		want = append(want, l)
		batch = append(batch, IngestRow{Row: Row{Line: l, Provider: Zitadel, UserID: strconv.Itoa(l)}, Input: []string{"", "", strconv.Itoa(l)}})
		if len(batch) == 500 || l == 2 {
			if _, err := s.AddRows(ctx, "order", batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	slices.Sort(want)
	out, _ := render(t, s, ctx, "order", ReportOptions{})
	var got []int
	for _, r := range readCSV(t, out)[1:] {
		n, _ := strconv.Atoi(r[0])
		got = append(got, n)
		if r[4] != r[0] {
			t.Fatalf("WriteReport(csv) line %s has user_id %s, want %s", r[0], r[4], r[0])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("WriteReport(csv) lines = %d lines from %v, want %d lines sorted from 2 to 2600 without multiples of 7", len(got), got[:min(5, len(got))], len(want))
	}
}

func TestWriteReportMarkdown(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	fixture := stytchFixture()
	fixture[2].rec.Message = "line one\nline | two <b>"
	buildRun(t, s, ctx, "md-all", Stytch, stytchColumns, fixture)
	md, sum := render(t, s, ctx, "md-all", ReportOptions{Format: ReportMarkdown})

	for _, want := range []string{
		"# Reactivation report: md-all\n",
		"| reactivated | 2 | done: nothing to do |\n",
		"| not_deactivated | 1 | see the reason: already_active needs nothing, locked needs an unlock, initial/invited/pending need sign-up |\n",
		"| unverified_email | 1 | verify an email of the member in Stytch, then re-run the failed-only report |\n",
		"| not_found | 2 | check the ids / org |\n",
		"| rejected | 1 | read the message |\n",
		"| failed | 1 | transient errors outlasted the retries: re-run the failed-only report |\n",
		"| invalid | 1 |",
		"| duplicate | 1 |",
		"| cancelled | 1 | re-run to finish |\n",
		"| pending | 1 |",
		"- first call: 2025-03-04T05:01:00Z\n",
		"- rate: 0.0358 rows/s\n",
		"| 4 | organization_id=organization-test-1 member_id=member-test-c | unverified_email | line one line \\| two &lt;b&gt; |\n",
		"| 14 | organization_id=-acme member_id=member-test-k | not_found | organization_not_found |\n",
		"`reactivator report md-all --failed-only -o failed.csv`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("WriteReport(md) =\n%s\nwant it to contain %q", md, want)
		}
	}
	if strings.Contains(md, "| 2 | organization_id") || strings.Contains(md, "| 13 | organization_id") {
		t.Errorf("WriteReport(md) =\n%s\nwant no reactivated or pending row among the failures", md)
	}
	if sum.Written != len(failedLines) {
		t.Errorf("WriteReport(md) written = %d, want %d failures", sum.Written, len(failedLines))
	}
}

func TestWriteReportMarkdownListsFirstFailures(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	var rows []fixtureRow
	for l := 2; l < 2+60; l++ {
		rows = append(rows, fixtureRow{line: l, usr: strconv.Itoa(1000 + l), rec: rec(Failed, 503, "", 5, "upstream unavailable")})
	}
	buildRun(t, s, ctx, "md-many", Zitadel, nil, rows)
	md, _ := render(t, s, ctx, "md-many", ReportOptions{Format: ReportMarkdown})
	if n := strings.Count(md, "| upstream unavailable |"); n != 50 {
		t.Errorf("WriteReport(md) lists %d failures, want 50:\n%s", n, md)
	}
	if !strings.Contains(md, "| 51 | user_id=1051 |") || strings.Contains(md, "| 52 | user_id=1052 |") {
		t.Errorf("WriteReport(md) =\n%s\nwant lines 2 to 51 listed, no later", md)
	}
	if want := "Showing the first 50 of 60 failures; `reactivator report md-many --failed-only -o failed.csv` lists them all"; !strings.Contains(md, want) {
		t.Errorf("WriteReport(md) =\n%s\nwant it to contain %q", md, want)
	}
}

func TestWriteReportErrors(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	if _, err := s.WriteReport(ctx, io.Discard, "no-such-run", ReportOptions{}); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("WriteReport(no-such-run) = %v, want ErrRunNotFound", err)
	}
	buildRun(t, s, ctx, "err", Zitadel, nil, []fixtureRow{{line: 2, usr: "1"}})
	if _, err := s.WriteReport(ctx, io.Discard, "err", ReportOptions{Format: "xlsx"}); err == nil || !strings.Contains(err.Error(), "xlsx") {
		t.Errorf("WriteReport(format xlsx) = %v, want an error naming the format", err)
	}
	if _, err := s.WriteReport(ctx, failingWriter{}, "err", ReportOptions{Format: ReportJSON}); !errors.Is(err, errWrite) {
		t.Errorf("WriteReport(to a failing writer) = %v, want %v", err, errWrite)
	}
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestOutcomeAdvice(t *testing.T) {
	t.Parallel()
	for _, o := range Outcomes {
		if o.Advice() == "" {
			t.Errorf("%s.Advice() = \"\", want a hint for the operator", o)
		}
	}
}

// BenchmarkWriteReport renders a report of 10,000 rows; allocations per op show that memory
// grows with batches, not with the run.
func BenchmarkWriteReport(b *testing.B) {
	s, ctx := setupReport(b)
	const n = 10000
	if _, _, err := s.CreateRun(ctx, Run{ID: "bench", Provider: Zitadel, File: "b.csv", Columns: []string{"email"}}); err != nil {
		b.Fatal(err)
	}
	for start := 2; start < 2+n; start += 1000 {
		var rows []IngestRow
		for l := start; l < start+1000; l++ {
			u := strconv.Itoa(l)
			rows = append(rows, IngestRow{Row: Row{Line: l, Provider: Zitadel, UserID: u}, Input: []string{"", "", u, u + "@x.io"}})
		}
		if _, err := s.AddRows(ctx, "bench", rows); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []ReportFormat{ReportCSV, ReportJSON, ReportMarkdown} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.WriteReport(ctx, io.Discard, "bench", ReportOptions{Format: f}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestWriteReportFailedOnlyLeavesOutActiveAccountsAndOutcomeFilters(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "aa")
	if _, err := s.AddRows(ctx, "aa", []IngestRow{zrow(2, "100"), zrow(3, "200"), zrow(4, "300"), zrow(5, "400")}); err != nil {
		t.Fatal(err)
	}
	for line, o := range map[int]OutcomeRecord{
		2: {Outcome: NotDeactivated, Reason: ReasonAlreadyActive},
		3: {Outcome: NotDeactivated, Reason: ReasonLocked},
		4: {Outcome: NotFound},
		5: {Outcome: Reactivated},
	} {
		if _, _, err := s.Record(ctx, "aa", line, o); err != nil {
			t.Fatal(err)
		}
	}
	lines := func(o ReportOptions) string {
		t.Helper()
		var b strings.Builder
		if _, err := s.WriteReport(ctx, &b, "aa", o); err != nil {
			t.Fatal(err)
		}
		var l []string
		for _, rec := range readCSV(t, b.String())[1:] {
			l = append(l, rec[0])
		}
		return strings.Join(l, ",")
	}
	tests := []struct {
		name string
		o    ReportOptions
		want string
	}{
		{"failed only", ReportOptions{FailedOnly: true}, "3,4"},
		{"outcome", ReportOptions{Outcomes: []Outcome{NotDeactivated}}, "2,3"},
		{"outcomes", ReportOptions{Outcomes: []Outcome{NotFound, Reactivated}}, "4,5"},
		{"failed only and outcome", ReportOptions{FailedOnly: true, Outcomes: []Outcome{NotDeactivated}}, "3"},
	}
	for _, tt := range tests {
		if got := lines(tt.o); got != tt.want {
			t.Errorf("%s: WriteReport(%+v) lines = %s, want %s", tt.name, tt.o, got, tt.want)
		}
	}
	if _, err := ParseOutcomes("not_found, failed,not_found"); err != nil {
		t.Errorf("ParseOutcomes(not_found, failed) = %v", err)
	}
	if _, err := ParseOutcomes("not_found,oops"); err == nil || !strings.Contains(err.Error(), `"oops"`) {
		t.Errorf("ParseOutcomes(oops) = %v, want an error naming it", err)
	}
}
