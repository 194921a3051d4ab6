package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// auditBundle is a run of n rows in a fresh database, each with its account's calls and state.
type auditBundle struct {
	store   *jobs.Store
	runID   string
	calls   map[int]int
	applied map[int]bool
	in      Input
}

func setupAudit(t *testing.T, n int) *auditBundle {
	t.Helper()
	ctx := context.Background()
	rdb := redistest.Shared(t).Client(t)
	b := &auditBundle{store: jobs.NewStore(rdb), runID: "audit", calls: map[int]int{}, applied: map[int]bool{}}
	if _, _, err := b.store.CreateRun(ctx, jobs.Run{ID: b.runID, Provider: jobs.Zitadel, File: "x.csv"}); err != nil {
		t.Fatal(err)
	}
	var rows []jobs.IngestRow
	for i := 1; i <= n; i++ {
		r := jobs.Row{Line: i + 1, Provider: jobs.Zitadel, UserID: fmt.Sprintf("u%d", i)}
		rows = append(rows, jobs.IngestRow{Row: r, Input: []string{"", "", r.UserID}})
	}
	if _, err := b.store.AddRows(ctx, b.runID, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.SetTotal(ctx, b.runID, n); err != nil {
		t.Fatal(err)
	}
	b.in = Input{
		Store: b.store, RunID: b.runID, Rows: n,
		Calls:   func(r jobs.ReportRow) int { return b.calls[r.Line] },
		Applied: func(r jobs.ReportRow) bool { return b.applied[r.Line] },
	}
	return b
}

// reactivate records line as reactivated after one call that applied.
func (b *auditBundle) reactivate(t *testing.T, line int) {
	t.Helper()
	b.record(t, line, jobs.OutcomeRecord{Outcome: jobs.Reactivated, Attempts: 1})
	b.calls[line], b.applied[line] = 1, true
}

func (b *auditBundle) record(t *testing.T, line int, o jobs.OutcomeRecord) {
	t.Helper()
	if _, _, err := b.store.Record(context.Background(), b.runID, line, o); err != nil {
		t.Fatal(err)
	}
}

func (b *auditBundle) audit(t *testing.T) Audit {
	t.Helper()
	a, err := Run(context.Background(), b.in)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	return a
}

func TestAuditPassesAnHonestRun(t *testing.T) {
	t.Parallel()
	b := setupAudit(t, 4)
	b.reactivate(t, 2)
	b.record(t, 3, jobs.OutcomeRecord{Outcome: jobs.Reactivated, Reason: jobs.ReasonConfirmedOnRetry, Attempts: 2})
	b.calls[3], b.applied[3] = 2, true
	b.record(t, 4, jobs.OutcomeRecord{Outcome: jobs.Cancelled, Message: "run cancelled; an earlier attempt may have reached the provider: check the account"})
	b.calls[4], b.applied[4] = 1, true
	b.record(t, 5, jobs.OutcomeRecord{Outcome: jobs.Cancelled, Message: "run cancelled before this row was called"})
	b.in.Records = map[int]int{2: 1, 3: 1}
	b.in.ReportLines = map[int]int{2: 1, 3: 1, 4: 1, 5: 1}
	a := b.audit(t)
	if !a.OK() {
		t.Fatalf("Run() problems = %q, want none", a.Problems)
	}
	if a.ExtraCalls != 1 || a.Ambiguous != 1 || a.Outcomes[jobs.Reactivated] != 2 || a.Outcomes[jobs.Cancelled] != 2 {
		t.Errorf("Run() = extra %d, ambiguous %d, outcomes %v; want 1, 1, reactivated 2 cancelled 2", a.ExtraCalls, a.Ambiguous, a.Outcomes)
	}
}

func TestAuditFindsBrokenRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		breakf func(t *testing.T, b *auditBundle)
		want   string
	}{
		{"a row without outcome", func(t *testing.T, b *auditBundle) {}, "rows lost"},
		{"a row logged twice", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			b.in.Records = map[int]int{2: 1, 3: 2}
		}, "rows with two outcomes"},
		{"a row missing from the report", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			b.in.ReportLines = map[int]int{2: 1}
		}, "missing from the report"},
		{"a row twice in the report", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			b.in.ReportLines = map[int]int{2: 1, 3: 2}
		}, "2 rows in the report"},
		{"a counter counted twice", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			// What a second, unguarded recording of line 3 would leave behind.
			if err := b.store.Redis().HIncrBy(context.Background(), "reactivator:{audit}:run", "done", 1).Err(); err != nil {
				t.Fatal(err)
			}
		}, "run counter done = 3"},
		{"reactivated without a call", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			b.calls[3] = 0
		}, "without any call"},
		{"reactivated but not applied", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			b.applied[3] = false
		}, "still deactivated"},
		{"more calls than attempts", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			b.calls[3] = 3
		}, "3 calls reached the account in 1 attempts"},
		{"a cancelled row that was called", func(t *testing.T, b *auditBundle) {
			b.record(t, 3, jobs.OutcomeRecord{Outcome: jobs.Cancelled, Message: "run cancelled before this row was called"})
			b.calls[3] = 1
		}, "cancelled as never called, but 1 calls"},
		{"a failed row whose account changed", func(t *testing.T, b *auditBundle) {
			b.record(t, 3, jobs.OutcomeRecord{Outcome: jobs.Failed, Attempts: 12, Message: "12 failed attempts"})
			b.calls[3], b.applied[3] = 12, true
		}, "failed (12 failed attempts), but the provider shows the account reactivated"},
		{"worker logs without a single record", func(t *testing.T, b *auditBundle) {
			b.reactivate(t, 3)
			b.in.Records = map[int]int{}
		}, "no worker log records an outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupAudit(t, 2)
			b.reactivate(t, 2)
			tt.breakf(t, b)
			a := b.audit(t)
			if !slices.ContainsFunc(a.Problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("Run() problems = %q, want one saying %q", a.Problems, tt.want)
			}
		})
	}
}

func TestCountRecords(t *testing.T) {
	t.Parallel()
	log := `{"level":"DEBUG","msg":"row done","run":"r1","line":2,"outcome":"reactivated"}
{"level":"DEBUG","msg":"transient answer, will retry","run":"r1","line":3}
{"level":"DEBUG","msg":"row done","run":"r1","line":3}
{"level":"DEBUG","msg":"row cancelled before its call","run":"r1","line":3}
{"level":"DEBUG","msg":"row done","run":"other","line":2}
not json
`
	got := map[int]int{}
	if err := CountRecords(strings.NewReader(log), "r1", got); err != nil {
		t.Fatal(err)
	}
	if got[2] != 1 || got[3] != 2 || len(got) != 2 {
		t.Errorf("CountRecords() = %v, want map[2:1 3:2]", got)
	}
}

func TestCountReportLines(t *testing.T) {
	t.Parallel()
	report := "line,provider,organization_id\n2,stytch,o\n3,stytch,o\n3,stytch,o\n"
	got, err := CountReportLines(strings.NewReader(report))
	if err != nil || got[2] != 1 || got[3] != 2 {
		t.Errorf("CountReportLines() = %v, %v; want map[2:1 3:2]", got, err)
	}
	if _, err := CountReportLines(strings.NewReader("provider,line\n")); err == nil {
		t.Errorf("CountReportLines(header without line first) error = nil, want an error")
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	a := Audit{Rows: 3, Outcomes: map[jobs.Outcome]int{jobs.Reactivated: 2, jobs.Cancelled: 1}, Ambiguous: 1, ExtraCalls: 1}
	if err := WriteTable(&sb, []Result{{Scenario: "x", Audit: a, Refused: 4, AfterStop: 0}, {Scenario: "y", Audit: a, AfterStop: -1}}); err != nil {
		t.Fatal(err)
	}
	if want := "| y | 3 | reactivated 2 (1 confirmed on retry), cancelled 1 | 0 | 0 | 1 | 0 | - | 0s |"; !strings.Contains(sb.String(), want) {
		t.Errorf("WriteTable() = %q, want a row %q (no stop in the scenario)", sb.String(), want)
	}
	want := "| x | 3 | reactivated 2 (1 confirmed on retry), cancelled 1 | 0 | 0 | 1 | 4 | 0 | 0s |"
	if !strings.Contains(sb.String(), want) {
		t.Errorf("WriteTable() = %q, want a row %q", sb.String(), want)
	}
}
