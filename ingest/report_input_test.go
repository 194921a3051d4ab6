package ingest

import (
	"errors"
	"strings"
	"testing"

	"reactivator/jobs"
)

// A --failed-only report holds both providers' id columns and a provider column; fed back in, it
// must read as the provider its rows name.
func TestReaderAcceptsFailedOnlyReport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		csv      string
		want     jobs.Provider
		wantRow  jobs.Row
		wantCols int
	}{
		{
			name: "zitadel",
			csv: "line,provider,organization_id,member_id,user_id,outcome,reason,http_status,request_id,attempts,finished_at,message,email\n" +
				"3,zitadel,4009073764,,400907454377888806,not_found,COMMAND-4M0sd,404,h1n0,1,2026-11-23T17:37:45Z,User could not be found,a@example.com\n",
			want:    jobs.Zitadel,
			wantRow: jobs.Row{Line: 2, Provider: jobs.Zitadel, OrgID: "4009073764", UserID: "400907454377888806"},
		},
		{
			name: "stytch",
			csv: "line,provider,organization_id,member_id,user_id,outcome,reason,http_status,request_id,attempts,finished_at,message\n" +
				"7,stytch,acme,member-test-1,,unverified_email,email_unverified_for_reactivation,400,req,1,2026-11-23T17:37:45Z,verify\n",
			want:    jobs.Stytch,
			wantRow: jobs.Row{Line: 2, Provider: jobs.Stytch, OrgID: "acme", MemberID: "member-test-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewReader("failed.csv", strings.NewReader(tt.csv), Options{})
			if err != nil {
				t.Fatalf("NewReader(report) = %v, want nil", err)
			}
			if r.Provider() != tt.want {
				t.Fatalf("Provider() = %s, want %s", r.Provider(), tt.want)
			}
			rec, err := r.Next()
			if err != nil || rec.Invalid != "" || rec.Row != tt.wantRow {
				t.Fatalf("Next() = %+v, %v; want valid row %+v", rec, err, tt.wantRow)
			}
		})
	}
}

func TestReaderEmptyFailedOnlyReportIsHeaderOnly(t *testing.T) {
	t.Parallel()
	const csv = "line,provider,organization_id,member_id,user_id,outcome,reason,http_status,request_id,attempts,finished_at,message\n"
	_, err := NewReader("failed.csv", strings.NewReader(csv), Options{})
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(fe.Msg, "header but no data rows") {
		t.Fatalf("NewReader(empty failed-only report) = %v, want the header-only refusal", err)
	}
}

// A report fed back in carries on only the input's own extra columns (not the report's), and
// reads back the cells the report neutralised for spreadsheets as they were.
func TestReaderOfAReportKeepsOnlyTheInputColumns(t *testing.T) {
	t.Parallel()
	const csv = "line,provider,organization_id,member_id,user_id,outcome,reason,http_status,request_id,attempts,finished_at,message,email,input_message\n" +
		"4,stytch,'=HYPERLINK(1),member-test-1,,not_found,organization_not_found,404,req,1,2026-11-23T17:37:45Z,no such org,'@c@example.com,'-note\n"
	r, err := NewReader("members.csv.failed.csv", strings.NewReader(csv), Options{})
	if err != nil {
		t.Fatalf("NewReader(report) = %v", err)
	}
	if got, want := strings.Join(r.ExtraColumns(), ","), "email,input_message"; got != want {
		t.Errorf("ExtraColumns() = %q, want %q (the report's own columns are not carried on)", got, want)
	}
	rec, err := r.Next()
	if err != nil || rec.Invalid != "" {
		t.Fatalf("Next() = %+v, %v", rec, err)
	}
	if rec.Row.OrgID != "=HYPERLINK(1)" || strings.Join(rec.Extra, ",") != "@c@example.com,-note" {
		t.Errorf("Next() = org %q, extra %q; want the cells as they were before the report neutralised them", rec.Row.OrgID, rec.Extra)
	}
	// A file that is not a report keeps a leading quote: it is the operator's data.
	r, err = NewReader("x.csv", strings.NewReader("organization_id,member_id,note\norg-1,member-test-1,'=x\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rec, _ := r.Next(); strings.Join(rec.Extra, ",") != "'=x" {
		t.Errorf("Next() of a plain file = extra %q, want '=x kept", rec.Extra)
	}
}

func TestReaderKeepsTheCellsOfAMalformedRecord(t *testing.T) {
	t.Parallel()
	r, err := NewReader("x.csv", strings.NewReader("organization_id;member_id;email\norg-1;member-test-1;a@x;surplus;more\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil || !strings.Contains(rec.Invalid, "wrong number of fields") || !strings.Contains(rec.Invalid, "the record as read: org-1;member-test-1;a@x;surplus;more") {
		t.Errorf("Next() = %q, %v; want wrong number of fields with the record as read", rec.Invalid, err)
	}
}
