package jobs

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLookupRowValidate(t *testing.T) {
	t.Parallel()
	const org = "organization-test-07971b06-ac8b-4cdb-9c15-63b17e653931"
	tests := []struct {
		name    string
		row     Row
		wantErr string
	}{
		{"stytch email", Row{Provider: Stytch, OrgID: org, Lookup: LookupEmail, LookupValue: "ada@example.com"}, ""},
		{"stytch email by slug", Row{Provider: Stytch, OrgID: "acme-corp", Lookup: LookupEmail, LookupValue: "ada@example.com"}, ""},
		{"stytch email without org", Row{Provider: Stytch, Lookup: LookupEmail, LookupValue: "ada@example.com"}, "organization_id: is empty"},
		{"stytch by user name", Row{Provider: Stytch, OrgID: org, Lookup: LookupUsername, LookupValue: "ada"}, "by email only"},
		{"email empty", Row{Provider: Zitadel, Lookup: LookupEmail}, "email: is empty"},
		{"email without at", Row{Provider: Zitadel, Lookup: LookupEmail, LookupValue: "ada.example.com"}, "is not an email address"},
		{"email with a name", Row{Provider: Zitadel, Lookup: LookupEmail, LookupValue: "Ada <ada@example.com>"}, "is not an email address"},
		{"email list", Row{Provider: Zitadel, Lookup: LookupEmail, LookupValue: "a@example.com,b@example.com"}, "is not an email address"},
		{"zitadel email", Row{Provider: Zitadel, Lookup: LookupEmail, LookupValue: "ada@example.com"}, ""},
		{"zitadel login name", Row{Provider: Zitadel, Lookup: LookupLoginName, LookupValue: "ada@acme.zitadel.cloud"}, ""},
		{"zitadel user name with a slash", Row{Provider: Zitadel, Lookup: LookupUsername, LookupValue: "a/b"}, ""},
		{"zitadel user name with a space", Row{Provider: Zitadel, Lookup: LookupUsername, LookupValue: "a b"}, "whitespace"},
		{"zitadel bad org", Row{Provider: Zitadel, OrgID: "a/b", Lookup: LookupUsername, LookupValue: "ada"}, "org_id"},
		{"an id wins over the lookup", Row{Provider: Zitadel, UserID: "1", Lookup: LookupEmail, LookupValue: "not an email"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.row.Validate()
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate(%+v) = %v, want %q", tt.row, err, tt.wantErr)
			}
		})
	}
}

func TestLookupRowKey(t *testing.T) {
	t.Parallel()
	id := Row{Line: 2, Provider: Zitadel, UserID: "1"}
	// An id row keeps the key it had before lookups existed: a resumed ingest queues nothing twice.
	if got, want := id.Key(), "6049f142894890932d58"; got != want {
		t.Fatalf("Key(%+v) = %s, want %s", id, got, want)
	}
	a := Row{Line: 2, Provider: Zitadel, Lookup: LookupEmail, LookupValue: "ada@example.com"}
	b := Row{Line: 5, Provider: Zitadel, Lookup: LookupEmail, LookupValue: "ada@example.com"}
	c := Row{Line: 2, Provider: Zitadel, Lookup: LookupUsername, LookupValue: "ada@example.com"}
	d := Row{Line: 2, Provider: Zitadel, OrgID: "7", Lookup: LookupEmail, LookupValue: "ada@example.com"}
	if a.Key() != b.Key() || a.Key() == c.Key() || a.Key() == d.Key() || a.Key() == id.Key() {
		t.Fatalf("Key: the same lookup on other lines must match, another kind or org must not: %s %s %s %s", a.Key(), b.Key(), c.Key(), d.Key())
	}
	// Resolving does not change how the row was keyed when read.
	if r := a.Resolved(Account{ID: "1", OrgID: "7"}); r.UserID != "1" || r.OrgID != "7" || r.NeedsLookup() {
		t.Fatalf("Resolved = %+v, want user 1 of org 7", r)
	}
}

func TestLookupTaskRoundTrip(t *testing.T) {
	t.Parallel()
	r := Row{Line: 7, Provider: Stytch, OrgID: "acme", Lookup: LookupEmail, LookupValue: "ada@example.com"}
	task, err := NewReactivateTask("run1", r, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := ParseReactivatePayload(task); err != nil || got != r {
		t.Fatalf("ParseReactivatePayload = %+v %v, want %+v", got, err, r)
	}
}

// TestLookupRowsInTheStore adds lookup rows beside id rows: the window claims them with their
// lookup, and the report shows the id a lookup found in the id columns, the input's cells kept.
func TestLookupRowsInTheStore(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	if _, _, err := s.CreateRun(ctx, Run{ID: "lk", Provider: Zitadel, File: "lk.csv", Columns: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	look := Row{Line: 2, Provider: Zitadel, Lookup: LookupEmail, LookupValue: "ada@example.com"}
	byID := Row{Line: 3, Provider: Zitadel, UserID: "42"}
	rows := []IngestRow{
		{Row: look, Input: []string{"", "", "", "ada@example.com"}},
		{Row: byID, Input: []string{"", "", "42", "bob@example.com"}},
		{Row: Row{Line: 4, Provider: Zitadel, Lookup: LookupEmail, LookupValue: "ada@example.com"}, Input: []string{"", "", "", "ada@example.com"}},
	}
	acts, err := s.AddRows(ctx, "lk", rows)
	if err != nil || acts[0] != AddQueue || acts[1] != AddQueue || acts[2] != AddDuplicate {
		t.Fatalf("AddRows = %v, %v; want queue, queue, duplicate", acts, err)
	}
	if _, err := s.SetTotal(ctx, "lk", 3); err != nil {
		t.Fatal(err)
	}
	c, err := s.ClaimRows(ctx, Zitadel, "lk", 10)
	if err != nil || len(c.Rows) != 2 || c.Rows[0] != look || c.Rows[1] != byID {
		t.Fatalf("ClaimRows = %+v, %v; want the lookup row and the id row as added", c.Rows, err)
	}
	if _, _, err := s.Record(ctx, "lk", 2, OutcomeRecord{Outcome: Rejected, ResolvedID: "1001", ResolvedOrg: "500"}); err != nil {
		t.Fatal(err)
	}
	// The report (package jobs/report) shows the ids the lookup found from what EachRow streams:
	// the row's input as given and its outcome with the account found.
	var got []ReportRow
	if err := s.EachRow(ctx, "lk", func(r ReportRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Pending || got[0].Outcome.ResolvedID != "1001" || got[0].Outcome.ResolvedOrg != "500" ||
		!slices.Equal(got[0].Input, []string{"", "", "", "ada@example.com"}) {
		t.Errorf("EachRow line 2 = %+v, want input as given, outcome with user 1001 in org 500 that the lookup found", got)
	} else if !got[1].Pending || !slices.Equal(got[1].Input, []string{"", "", "42", "bob@example.com"}) {
		t.Errorf("EachRow line 3 = %+v, want the id row as given, pending", got[1])
	}
}

// TestUndoOfLookupRowsCallsTheAccountsFound undoes a run of email rows: the undo run names each
// account by the id its lookup found, so it deactivates exactly those, with no lookup of its own.
func TestUndoOfLookupRowsCallsTheAccountsFound(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "byemail")
	rows := []IngestRow{
		{Row: Row{Line: 2, Provider: Zitadel, Lookup: LookupEmail, LookupValue: "ada@example.com"}, Input: []string{"", "", "", "ada@example.com"}},
		{Row: Row{Line: 3, Provider: Zitadel, Lookup: LookupEmail, LookupValue: "bob@example.com"}, Input: []string{"", "", "", "bob@example.com"}},
	}
	if _, err := s.AddRows(ctx, "byemail", rows); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, "byemail", 2); err != nil {
		t.Fatal(err)
	}
	for line, rec := range map[int]OutcomeRecord{
		2: {Outcome: Reactivated, ResolvedID: "1001", ResolvedOrg: "500"},
		3: {Outcome: NotFound, Reason: ReasonNoAccountWithEmail},
	} {
		if _, _, err := s.Record(ctx, "byemail", line, rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateUndoRun(ctx, "byemail"); err != nil {
		t.Fatal(err)
	}
	c, err := s.ClaimRows(ctx, Zitadel, "undo-byemail", 10)
	want := Row{Line: 2, Provider: Zitadel, OrgID: "500", UserID: "1001"}
	if err != nil || len(c.Rows) != 1 || c.Rows[0] != want {
		t.Fatalf("ClaimRows(undo-byemail) = %+v, %v; want only %+v", c.Rows, err, want)
	}
}
