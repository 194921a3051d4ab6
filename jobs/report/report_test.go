// This file tests the rendering of reports from runs recorded through the store API, as ingest
// and the workers record them.

package report

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
	"sync/atomic"
	"testing"
	"time"

	"reactivator/internal/clock"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// TestMain stops the package's redis-server after the tests (redistest.Main).
func TestMain(m *testing.M) { redistest.Main(m) }

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
	invalid          string              // recorded as invalid by AddRows
	rec              *jobs.OutcomeRecord // nil: pending, or duplicate when its ids repeat an earlier row
}

func rec(o jobs.Outcome, status int, reqID string, attempts int, msg string) *jobs.OutcomeRecord {
	return &jobs.OutcomeRecord{Outcome: o, HTTPStatus: status, RequestID: reqID, Attempts: attempts, Message: msg, FinishedAt: tRec}
}

// stytchFixture has a row of every outcome, a pending row, a blank line (12), formula-like cells
// in messages and extra columns, an invalid row with a formula for an id, and a slug starting with -.
var stytchColumns = []string{"email", "Outcome", "note"}

func stytchFixture() []fixtureRow {
	confirmed := rec(jobs.Reactivated, 400, "req-11", 2, "")
	confirmed.Reason = jobs.ReasonConfirmedOnRetry
	return []fixtureRow{
		{line: 2, org: "organization-test-1", member: "member-test-a", extra: []string{"a@x.io", "", ""}, rec: rec(jobs.Reactivated, 200, "req-2", 1, "")},
		{line: 3, org: "organization-test-1", member: "member-test-b", extra: []string{"b@x.io", "", ""}, rec: rec(jobs.NotDeactivated, 400, "req-3", 1, "member is active")},
		{line: 4, org: "organization-test-1", member: "member-test-c", extra: []string{"c@x.io", "", ""}, rec: rec(jobs.UnverifiedEmail, 400, "req-4", 1, "no verified email")},
		{line: 5, org: "organization-test-2", member: "member-test-d", extra: []string{"d@x.io", "", ""}, rec: rec(jobs.NotFound, 404, "req-5", 1, "member_not_found")},
		{line: 6, org: "organization-test-2", member: "member-test-e", extra: []string{"e@x.io", "=1+1", "@SUM(A1:A9)"}, rec: rec(jobs.Rejected, 400, "req-6", 1, `=HYPERLINK("http://evil","x")`)},
		{line: 7, org: "organization-test-2", member: "member-test-f", extra: []string{"f@x.io", "-2+3", "\tindented"}, rec: rec(jobs.Failed, 503, "", 5, "+503 after 5 attempts")},
		{line: 8, org: "=cmd|' /C calc'!A0", member: "member-test-g", extra: []string{"g@x.io", "\rcr", ""}, invalid: "organization_id: contains whitespace"},
		{line: 9, org: "organization-test-1", member: "member-test-a", extra: []string{"a@x.io", "", "again"}},
		{line: 10, org: "organization-test-3", member: "member-test-h", extra: []string{"h@x.io", "", ""}, rec: rec(jobs.Cancelled, 0, "", 0, "run cancelled before this row was called")},
		{line: 11, org: "organization-test-3", member: "member-test-i", extra: []string{"i@x.io", "", ""}, rec: confirmed},
		{line: 13, org: "organization-test-3", member: "member-test-j", extra: []string{"j@x.io", "", ""}},
		{line: 14, org: "-acme", member: "member-test-k", extra: []string{"k@x.io", "", ""}, rec: rec(jobs.NotFound, 404, "req-14", 1, "organization_not_found")},
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

// testStore is a run store whose clock the test sets.
type testStore struct {
	*jobs.Store
	now atomic.Pointer[time.Time]
}

func (s *testStore) set(at time.Time) { s.now.Store(&at) }

// setupReport returns a store on a fresh database whose clock reads tAdd.
func setupReport(t testing.TB) (*testStore, context.Context) {
	t.Helper()
	s := &testStore{}
	s.set(tAdd)
	s.Store = jobs.NewStoreAt(redistest.Shared(t).Client(t), clock.Func(func() time.Time { return *s.now.Load() }))
	return s, context.Background()
}

func zrow(line int, user string) jobs.IngestRow {
	return jobs.IngestRow{Row: jobs.Row{Line: line, Provider: jobs.Zitadel, UserID: user}, Input: []string{"", "", user}}
}

// buildRun records a run of rows through the store API, as ingest and the workers would.
func buildRun(t testing.TB, s *testStore, ctx context.Context, id string, p jobs.Provider, cols []string, rows []fixtureRow) {
	t.Helper()
	if _, created, err := s.CreateRun(ctx, jobs.Run{ID: id, Provider: p, File: id + ".csv", Columns: cols}); err != nil || !created {
		t.Fatalf("CreateRun(%s) = created %v, %v; want true, nil", id, created, err)
	}
	in := make([]jobs.IngestRow, len(rows))
	for i, r := range rows {
		in[i] = jobs.IngestRow{
			Row:     jobs.Row{Line: r.line, Provider: p, OrgID: r.org, MemberID: r.member, UserID: r.usr},
			Input:   append([]string{r.org, r.member, r.usr}, r.extra...),
			Invalid: r.invalid,
		}
	}
	if _, err := s.AddRows(ctx, id, in); err != nil {
		t.Fatalf("AddRows(%s) = %v", id, err)
	}
	s.set(tBegin)
	for _, r := range rows {
		if r.rec == nil {
			continue
		}
		if _, err := s.Begin(ctx, jobs.Zitadel, id, r.line); err != nil {
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

func render(t testing.TB, s *testStore, ctx context.Context, id string, o jobs.ReportOptions) (string, jobs.ReportSummary) {
	t.Helper()
	var b bytes.Buffer
	sum, err := Write(ctx, &b, s, id, o)
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
	buildRun(t, s, ctx, "csv-all", jobs.Stytch, stytchColumns, stytchFixture())
	out, sum := render(t, s, ctx, "csv-all", jobs.ReportOptions{Format: jobs.ReportCSV})
	got := readCSV(t, out)
	if len(got) != len(wantStytchCSV) {
		t.Fatalf("WriteReport(csv) has %d records, want %d:\n%s", len(got), len(wantStytchCSV), out)
	}
	for i := range wantStytchCSV {
		if !slices.Equal(got[i], wantStytchCSV[i]) {
			t.Errorf("WriteReport(csv) record %d = %q, want %q", i, got[i], wantStytchCSV[i])
		}
	}
	want := jobs.ReportSummary{RunID: "csv-all", Provider: jobs.Stytch, File: "csv-all.csv", State: jobs.RunQueued, Status: jobs.StatusRunning, Rows: 12, Pending: 1,
		Failures: 8, Written: 12, CreatedAt: tAdd, FirstCallAt: tBegin, LastOutcomeAt: tRec, Duration: tRec.Sub(tBegin)}
	wantCounts := map[jobs.Outcome]int{jobs.Reactivated: 2, jobs.NotDeactivated: 1, jobs.UnverifiedEmail: 1, jobs.NotFound: 2, jobs.Rejected: 1, jobs.Failed: 1, jobs.Invalid: 1, jobs.Duplicate: 1, jobs.Cancelled: 1}
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
	buildRun(t, s, ctx, "csv-default", jobs.Stytch, stytchColumns, stytchFixture())
	def, _ := render(t, s, ctx, "csv-default", jobs.ReportOptions{})
	csvOut, _ := render(t, s, ctx, "csv-default", jobs.ReportOptions{Format: jobs.ReportCSV})
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
	buildRun(t, s, ctx, "json-all", jobs.Stytch, stytchColumns, fixture)
	out, _ := render(t, s, ctx, "json-all", jobs.ReportOptions{Format: jobs.ReportJSON})
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
	buildRun(t, s, ctx, "failed-only", jobs.Stytch, stytchColumns, stytchFixture())

	out, sum := render(t, s, ctx, "failed-only", jobs.ReportOptions{Format: jobs.ReportCSV, FailedOnly: true})
	recs := readCSV(t, out)
	if !slices.Equal(recs[0], wantStytchCSV[0]) {
		t.Errorf("WriteReport(csv, failed-only) header = %q, want %q", recs[0], wantStytchCSV[0])
	}
	var lines []int
	for _, r := range recs[1:] {
		n, _ := strconv.Atoi(r[0])
		lines = append(lines, n)
		if !jobs.Outcome(r[5]).Permanent() {
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

	jout, _ := render(t, s, ctx, "failed-only", jobs.ReportOptions{Format: jobs.ReportJSON, FailedOnly: true})
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
		provider jobs.Provider
		cols     []string
		rows     []fixtureRow
		wantIDs  [][3]string // organization_id, member_id, user_id of each failed row
	}{
		{
			name: "stytch", provider: jobs.Stytch, cols: []string{"email", "member", "org_id"},
			rows: []fixtureRow{
				{line: 2, org: "organization-test-1", member: "member-test-a", extra: []string{"a@x.io", "m", "o"}, rec: rec(jobs.Reactivated, 200, "r", 1, "")},
				{line: 3, org: "-acme", member: "member-test-b", extra: []string{"b@x.io", "m", "o"}, rec: rec(jobs.NotFound, 404, "r", 1, "organization_not_found")},
				{line: 4, org: "acme_slug", member: "member-live-c", extra: []string{"=x", "m", "o"}, rec: rec(jobs.UnverifiedEmail, 400, "r", 1, "")},
			},
			wantIDs: [][3]string{{"-acme", "member-test-b", ""}, {"acme_slug", "member-live-c", ""}},
		},
		{
			name: "zitadel with org_id", provider: jobs.Zitadel, cols: []string{"id", "email"},
			rows: []fixtureRow{
				{line: 2, org: "2685039", usr: "2685100", extra: []string{"x", "a@x.io"}, rec: rec(jobs.NotDeactivated, 400, "r", 1, "")},
				{line: 3, org: "2685039", usr: "2685101", extra: []string{"y", "b@x.io"}, rec: rec(jobs.Reactivated, 200, "r", 1, "")},
				{line: 4, org: "", usr: "2685102", extra: []string{"z", "c@x.io"}, rec: rec(jobs.Failed, 503, "", 5, "")},
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
			out, _ := render(t, s, ctx, id, jobs.ReportOptions{Format: jobs.ReportCSV, FailedOnly: true})
			recs := readCSV(t, out)
			header := recs[0]
			if !slices.Equal(header[:len(jobs.ReportColumns)], jobs.ReportColumns) {
				t.Fatalf("WriteReport(failed-only) header = %q, want it to start with %q", header, jobs.ReportColumns)
			}
			seen := map[string]bool{}
			for _, h := range header {
				k := strings.ToLower(strings.TrimSpace(h))
				if seen[k] {
					t.Errorf("WriteReport(failed-only) header = %q: %q appears twice", header, h)
				}
				seen[k] = true
			}
			for _, h := range header[len(jobs.ReportColumns):] {
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
		{line: 2, usr: "100", rec: rec(jobs.Reactivated, 200, "r", 1, "")},
		{line: 3, usr: "101"},
		{line: 4, usr: "102"},
	}
	buildRun(t, s, ctx, "pending", jobs.Zitadel, nil, rows)

	out, sum := render(t, s, ctx, "pending", jobs.ReportOptions{})
	recs := readCSV(t, out)
	var outcomes []string
	for _, r := range recs[1:] {
		outcomes = append(outcomes, r[5]+"@"+r[10])
	}
	if want := []string{"reactivated@2025-03-04T05:06:07Z", "pending@", "pending@"}; !slices.Equal(outcomes, want) {
		t.Errorf("WriteReport(csv) outcomes = %q, want %q", outcomes, want)
	}
	if sum.Pending != 2 || sum.State != jobs.RunQueued {
		t.Errorf("WriteReport(csv) summary = %d pending, state %s; want 2, queued", sum.Pending, sum.State)
	}

	doc := decodeJSONReport(t, func() string {
		o, _ := render(t, s, ctx, "pending", jobs.ReportOptions{Format: jobs.ReportJSON})
		return o
	}())
	if len(doc.Rows) != 3 || doc.Rows[1].Outcome != "pending" || doc.Rows[1].FinishedAt != "" || doc.Summary.Pending != 2 {
		t.Errorf("WriteReport(json) = %+v, want 3 rows, line 3 pending, 2 pending in the summary", doc)
	}

	if out, _ := render(t, s, ctx, "pending", jobs.ReportOptions{FailedOnly: true}); len(readCSV(t, out)) != 1 {
		t.Errorf("WriteReport(csv, failed-only) =\n%s\nwant the header only: pending rows are not failures", out)
	}

	md, _ := render(t, s, ctx, "pending", jobs.ReportOptions{Format: jobs.ReportMarkdown})
	if !strings.Contains(md, "| pending | 2 |") {
		t.Errorf("WriteReport(md) =\n%s\nwant a pending row with 2", md)
	}
}

func TestWriteReportLineOrder(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	if _, _, err := s.CreateRun(ctx, jobs.Run{ID: "order", Provider: jobs.Zitadel, File: "o.csv"}); err != nil {
		t.Fatal(err)
	}
	// Lines 2..2600 except every seventh (blank lines, multi-line rows), added newest first in
	// several batches, across EachRow's batch boundaries.
	var want []int
	var batch []jobs.IngestRow
	for l := 2600; l >= 2; l-- {
		if l%7 == 0 {
			continue
		}
		want = append(want, l)
		batch = append(batch, jobs.IngestRow{Row: jobs.Row{Line: l, Provider: jobs.Zitadel, UserID: strconv.Itoa(l)}, Input: []string{"", "", strconv.Itoa(l)}})
		if len(batch) == 500 || l == 2 {
			if _, err := s.AddRows(ctx, "order", batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	slices.Sort(want)
	out, _ := render(t, s, ctx, "order", jobs.ReportOptions{})
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
	buildRun(t, s, ctx, "md-all", jobs.Stytch, stytchColumns, fixture)
	md, sum := render(t, s, ctx, "md-all", jobs.ReportOptions{Format: jobs.ReportMarkdown})

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
		rows = append(rows, fixtureRow{line: l, usr: strconv.Itoa(1000 + l), rec: rec(jobs.Failed, 503, "", 5, "upstream unavailable")})
	}
	buildRun(t, s, ctx, "md-many", jobs.Zitadel, nil, rows)
	md, _ := render(t, s, ctx, "md-many", jobs.ReportOptions{Format: jobs.ReportMarkdown})
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
	if _, err := Write(ctx, io.Discard, s, "no-such-run", jobs.ReportOptions{}); !errors.Is(err, jobs.ErrRunNotFound) {
		t.Errorf("WriteReport(no-such-run) = %v, want ErrRunNotFound", err)
	}
	buildRun(t, s, ctx, "err", jobs.Zitadel, nil, []fixtureRow{{line: 2, usr: "1"}})
	if _, err := Write(ctx, io.Discard, s, "err", jobs.ReportOptions{Format: "xlsx"}); err == nil || !strings.Contains(err.Error(), "xlsx") {
		t.Errorf("WriteReport(format xlsx) = %v, want an error naming the format", err)
	}
	if _, err := Write(ctx, failingWriter{}, s, "err", jobs.ReportOptions{Format: jobs.ReportJSON}); !errors.Is(err, errWrite) {
		t.Errorf("WriteReport(to a failing writer) = %v, want %v", err, errWrite)
	}
	// A run a prune stopped in the middle of has lost rows: no report, rather than one that
	// looks whole.
	var out bytes.Buffer
	if _, err := Write(ctx, &out, pruningSource{s}, "err", jobs.ReportOptions{}); !errors.Is(err, jobs.ErrRunPruning) || out.Len() != 0 {
		t.Errorf("WriteReport(a run being pruned) = %v and %d bytes, want ErrRunPruning and nothing written", err, out.Len())
	}
}

// pruningSource is a store whose runs say a prune began deleting them.
type pruningSource struct{ *testStore }

func (p pruningSource) Run(ctx context.Context, id string) (jobs.Run, error) {
	r, err := p.testStore.Run(ctx, id)
	r.Pruning = true
	return r, err
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// BenchmarkWriteReport renders a report of 10,000 rows; allocations per op show that memory
// grows with batches, not with the run.
func BenchmarkWriteReport(b *testing.B) {
	s, ctx := setupReport(b)
	const n = 10000
	if _, _, err := s.CreateRun(ctx, jobs.Run{ID: "bench", Provider: jobs.Zitadel, File: "b.csv", Columns: []string{"email"}}); err != nil {
		b.Fatal(err)
	}
	for start := 2; start < 2+n; start += 1000 {
		var rows []jobs.IngestRow
		for l := start; l < start+1000; l++ {
			u := strconv.Itoa(l)
			rows = append(rows, jobs.IngestRow{Row: jobs.Row{Line: l, Provider: jobs.Zitadel, UserID: u}, Input: []string{"", "", u, u + "@x.io"}})
		}
		if _, err := s.AddRows(ctx, "bench", rows); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []jobs.ReportFormat{jobs.ReportCSV, jobs.ReportJSON, jobs.ReportMarkdown} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Write(ctx, io.Discard, s, "bench", jobs.ReportOptions{Format: f}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestWriteReportFailedOnlyLeavesOutActiveAccountsAndOutcomeFilters(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	if _, _, err := s.CreateRun(ctx, jobs.Run{ID: "aa", Provider: jobs.Zitadel, File: "u.csv", Columns: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRows(ctx, "aa", []jobs.IngestRow{zrow(2, "100"), zrow(3, "200"), zrow(4, "300"), zrow(5, "400")}); err != nil {
		t.Fatal(err)
	}
	for line, o := range map[int]jobs.OutcomeRecord{
		2: {Outcome: jobs.NotDeactivated, Reason: jobs.ReasonAlreadyActive},
		3: {Outcome: jobs.NotDeactivated, Reason: jobs.ReasonLocked},
		4: {Outcome: jobs.NotFound},
		5: {Outcome: jobs.Reactivated},
	} {
		if _, _, err := s.Record(ctx, "aa", line, o); err != nil {
			t.Fatal(err)
		}
	}
	lines := func(o jobs.ReportOptions) string {
		t.Helper()
		var b strings.Builder
		if _, err := Write(ctx, &b, s, "aa", o); err != nil {
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
		o    jobs.ReportOptions
		want string
	}{
		{"failed only", jobs.ReportOptions{FailedOnly: true}, "3,4"},
		{"outcome", jobs.ReportOptions{Outcomes: []jobs.Outcome{jobs.NotDeactivated}}, "2,3"},
		{"outcomes", jobs.ReportOptions{Outcomes: []jobs.Outcome{jobs.NotFound, jobs.Reactivated}}, "4,5"},
		{"failed only and outcome", jobs.ReportOptions{FailedOnly: true, Outcomes: []jobs.Outcome{jobs.NotDeactivated}}, "3"},
	}
	for _, tt := range tests {
		if got := lines(tt.o); got != tt.want {
			t.Errorf("%s: WriteReport(%+v) lines = %s, want %s", tt.name, tt.o, got, tt.want)
		}
	}
}

// TestLookupRowShowsTheAccountFound renders a row named by email whose lookup found an account:
// the report shows the ids found (so a failed-only report is input by id) and keeps the email.
func TestLookupRowShowsTheAccountFound(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	if _, _, err := s.CreateRun(ctx, jobs.Run{ID: "lk", Provider: jobs.Zitadel, File: "lk.csv", Columns: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	rows := []jobs.IngestRow{
		{Row: jobs.Row{Line: 2, Provider: jobs.Zitadel, Lookup: jobs.LookupEmail, LookupValue: "ada@example.com"}, Input: []string{"", "", "", "ada@example.com"}},
		{Row: jobs.Row{Line: 3, Provider: jobs.Zitadel, UserID: "42"}, Input: []string{"", "", "42", "bob@example.com"}},
	}
	if _, err := s.AddRows(ctx, "lk", rows); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Record(ctx, "lk", 2, jobs.OutcomeRecord{Outcome: jobs.Rejected, ResolvedID: "1001", ResolvedOrg: "500"}); err != nil {
		t.Fatal(err)
	}
	out, _ := render(t, s, ctx, "lk", jobs.ReportOptions{})
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[1], "2,zitadel,500,,1001,rejected,") || !strings.HasSuffix(strings.TrimSpace(lines[1]), ",ada@example.com") {
		t.Errorf("report line 2 = %q, want org 500 and user 1001 the lookup found, and the email", lines[1])
	}
	if !strings.HasPrefix(lines[2], "3,zitadel,,,42,pending,") {
		t.Errorf("report line 3 = %q, want the id row as given", lines[2])
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
