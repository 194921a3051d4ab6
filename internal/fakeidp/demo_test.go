// This file tests the demo seeding: deterministic, every intended outcome present, and the
// fakes' state agreeing with what each row is meant to end with.

package fakeidp

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"

	"reactivator/jobs"
)

func TestStytchSeedDemo(t *testing.T) {
	t.Parallel()
	s := NewStytch("project-test-00000000-0000-4000-8000-000000000000", "secret")
	rows := s.SeedDemo(60, 7)
	if again := NewStytch("project-test-00000000-0000-4000-8000-000000000000", "secret").SeedDemo(60, 7); !slices.Equal(rows, again) {
		t.Errorf("SeedDemo(60, 7) differs between two fakes, want the same rows for the same seed")
	}
	counts := map[jobs.Outcome]int{}
	slugs := 0
	for i, r := range rows {
		counts[r.Want]++
		if r.OrgID == "acme" || r.OrgID == "globex" || r.OrgID == "initech" {
			slugs++
		}
		want := map[jobs.Outcome][]string{
			jobs.Reactivated: {StytchDeleted}, jobs.NotDeactivated: {StytchActive, StytchInvited},
			jobs.UnverifiedEmail: {StytchDeleted}, jobs.NotFound: {""}, jobs.Invalid: {""}, jobs.Duplicate: {StytchDeleted, StytchActive, StytchInvited, ""},
		}[r.Want]
		if got := s.Status(r.OrgID, r.MemberID); !slices.Contains(want, got) {
			t.Errorf("row %d (%s) status = %q, want one of %q", i, r.Want, got, want)
		}
	}
	for _, o := range []jobs.Outcome{jobs.Reactivated, jobs.NotDeactivated, jobs.UnverifiedEmail, jobs.NotFound, jobs.Invalid, jobs.Duplicate} {
		if counts[o] == 0 {
			t.Errorf("SeedDemo(60, 7) has no row meant to end %s: %v", o, counts)
		}
	}
	if counts[jobs.Reactivated] < 30 || slugs == 0 {
		t.Errorf("SeedDemo(60, 7): %d reactivatable rows and %d by slug, want mostly reactivatable and some slugs", counts[jobs.Reactivated], slugs)
	}
}

func TestZitadelSeedDemo(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	rows := z.SeedDemo(60, 7)
	counts := map[jobs.Outcome]int{}
	withOrg := 0
	for i, r := range rows {
		counts[r.Want]++
		if r.OrgID != "" {
			withOrg++
		}
		got := z.State(r.UserID)
		switch r.Want {
		case jobs.Reactivated:
			if got != ZitadelInactive {
				t.Errorf("row %d (%s) state = %q, want inactive", i, r.Want, got)
			}
		case jobs.NotDeactivated:
			if got == "" || got == ZitadelInactive {
				t.Errorf("row %d (%s) state = %q, want an existing user that is not inactive", i, r.Want, got)
			}
		case jobs.NotFound, jobs.Invalid:
			if got != "" {
				t.Errorf("row %d (%s) state = %q, want no such user", i, r.Want, got)
			}
		}
	}
	for _, o := range []jobs.Outcome{jobs.Reactivated, jobs.NotDeactivated, jobs.NotFound, jobs.Invalid, jobs.Duplicate} {
		if counts[o] == 0 {
			t.Errorf("SeedDemo(60, 7) has no row meant to end %s: %v", o, counts)
		}
	}
	if withOrg == 0 || withOrg == len(rows) {
		t.Errorf("SeedDemo(60, 7): %d of %d rows carry an org_id, want some", withOrg, len(rows))
	}
}

func TestWriteDemoCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		p      jobs.Provider
		rows   []DemoRow
		header []string
		first  []string
	}{
		{name: "stytch", p: jobs.Stytch, rows: []DemoRow{{OrgID: "acme", MemberID: "member-test-1", Email: "a@b"}},
			header: []string{"organization_id", "member_id", "email"}, first: []string{"acme", "member-test-1", "a@b"}},
		{name: "zitadel", p: jobs.Zitadel, rows: []DemoRow{{UserID: "123", Email: "a@b"}},
			header: []string{"user_id", "org_id", "email"}, first: []string{"123", "", "a@b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := WriteDemoCSV(&buf, tt.p, tt.rows); err != nil {
				t.Fatalf("WriteDemoCSV = %v", err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(recs) != 2 || !slices.Equal(recs[0], tt.header) || !slices.Equal(recs[1], tt.first) {
				t.Errorf("WriteDemoCSV(%s) = %q, %v, want header %q and row %q", tt.p, recs, err, tt.header, tt.first)
			}
		})
	}
}
