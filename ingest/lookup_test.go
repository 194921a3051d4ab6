// This file tests the rows that name their account by email, login name or user name.

package ingest_test

import (
	"strings"
	"testing"

	"reactivator/ingest"
	"reactivator/jobs"
)

func TestReaderLookupRows(t *testing.T) {
	t.Parallel()
	const org = "organization-test-4b5e2a1c-9d1f-4c57-8b9e-3f2a1d0c7e61"
	const mem = "member-test-0f7a3c2e-5b8d-4e91-a6c4-2d9e8f1b3a57"
	type want struct {
		lookup  jobs.Lookup
		value   string
		id      string
		invalid string
	}
	tests := []struct {
		name     string
		in       string
		opts     ingest.Options
		provider jobs.Provider
		extra    []string
		rows     []want
	}{
		{
			name: "stytch by email, header in any case", in: "Organization_ID,EMAIL\n" + org + ",ada@example.com\n" + org + ",\n" + org + ",ada\n",
			provider: jobs.Stytch, extra: []string{"EMAIL"},
			rows: []want{
				{lookup: jobs.LookupEmail, value: "ada@example.com"},
				{invalid: "nothing names the account: EMAIL are all empty; give its id or its EMAIL"},
				{lookup: jobs.LookupEmail, value: "ada", invalid: `email "ada": is not an email address`},
			},
		},
		{
			name: "stytch id and email: the id wins, the email is the fallback", in: "organization_id,member_id,email\n" + org + "," + mem + ",ada@example.com\n" + org + ",,bob@example.com\n" + org + ",,\n",
			provider: jobs.Stytch, extra: []string{"email"},
			rows: []want{
				{id: mem},
				{lookup: jobs.LookupEmail, value: "bob@example.com"},
				{invalid: "member_id, email are all empty"},
			},
		},
		{
			name: "zitadel email alone", in: "email\nada@example.com\n",
			provider: jobs.Zitadel, extra: []string{"email"},
			rows: []want{{lookup: jobs.LookupEmail, value: "ada@example.com"}},
		},
		{
			name: "zitadel email with an org given", in: "org_id,email\n7,ada@example.com\n", opts: ingest.Options{Provider: jobs.Zitadel},
			provider: jobs.Zitadel, extra: []string{"email"},
			rows: []want{{lookup: jobs.LookupEmail, value: "ada@example.com"}},
		},
		{
			name: "zitadel login name before user name before email", in: "Login_Name,username,email,note\nada@acme,ada,ada@example.com,x\n,ada,ada@example.com,x\n,,ada@example.com,x\n,,,x\n",
			provider: jobs.Zitadel, extra: []string{"Login_Name", "username", "email", "note"},
			rows: []want{
				{lookup: jobs.LookupLoginName, value: "ada@acme"},
				{lookup: jobs.LookupUsername, value: "ada"},
				{lookup: jobs.LookupEmail, value: "ada@example.com"},
				{invalid: "Login_Name, username, email are all empty"},
			},
		},
		{
			name: "zitadel find output: user ids, email extra", in: "user_id,org_id,email,state\n1,2,ada@example.com,inactive\n",
			provider: jobs.Zitadel, extra: []string{"email", "state"},
			rows: []want{{id: "1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := readAll(t, "f.csv", strings.NewReader(tt.in), tt.opts)
			if g.err != nil {
				t.Fatalf("reading %q: %v", tt.in, g.err)
			}
			if g.provider != tt.provider || strings.Join(g.extra, ",") != strings.Join(tt.extra, ",") {
				t.Errorf("provider %s, extra %q; want %s, %q", g.provider, g.extra, tt.provider, tt.extra)
			}
			if len(g.recs) != len(tt.rows) {
				t.Fatalf("%d records, want %d", len(g.recs), len(tt.rows))
			}
			for i, w := range tt.rows {
				r := g.recs[i]
				id := r.Row.MemberID + r.Row.UserID
				if r.Row.Lookup != w.lookup || r.Row.LookupValue != w.value || id != w.id ||
					(w.invalid == "") != (r.Invalid == "") || !strings.Contains(r.Invalid, w.invalid) {
					t.Errorf("line %d = %+v invalid %q; want %+v", r.Row.Line, r.Row, r.Invalid, w)
				}
			}
		})
	}
}
