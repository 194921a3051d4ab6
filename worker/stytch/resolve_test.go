// This file tests Resolve over real HTTP against the fake Stytch.

package stytch_test

import (
	"context"
	"errors"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func TestEmailSearchBody(t *testing.T) {
	t.Parallel()
	got := string(stytch.EmailSearchBody(testOrg, "ada@example.com", 20))
	want := `{"limit":20,"organization_ids":["` + testOrg + `"],"query":{"operands":[{"filter_name":"member_emails","filter_value":["ada@example.com"]},{"filter_name":"statuses","filter_value":["active","deleted","invited","pending"]}],"operator":"AND"}}`
	if got != want {
		t.Errorf("EmailSearchBody = %s, want %s", got, want)
	}
}

func TestResolveByEmail(t *testing.T) {
	t.Parallel()
	f := fakeidp.NewStytch(testProject, testSecret)
	f.AddOrg(testOrg, "acme")
	f.AddMember(testOrg, testMember, fakeidp.StytchDeleted, true)
	f.SetMemberEmail(testMember, "ada@example.com")
	f.AddMember(testOrg, "member-test-00000000-0000-4000-8000-000000000003", fakeidp.StytchActive, true)
	f.SetMemberEmail("member-test-00000000-0000-4000-8000-000000000003", "grace@example.com")
	url, stop := fakeidp.Serve(f)
	t.Cleanup(stop)
	c, err := stytch.New(stytch.Config{ProjectID: testProject, Secret: testSecret, BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	row := func(org, email string) jobs.Row {
		return jobs.Row{Line: 2, Provider: jobs.Stytch, OrgID: org, Lookup: jobs.LookupEmail, LookupValue: email}
	}
	ctx := context.Background()
	accts, err := c.Resolve(ctx, row(testOrg, "ADA@example.com"))
	if err != nil || len(accts) != 1 || accts[0].ID != testMember || accts[0].State != jobs.StateDeactivated || accts[0].OrgID != testOrg {
		t.Fatalf("Resolve(deleted member by email) = %+v, %v; want %s deleted", accts, err, testMember)
	}
	if accts, err := c.Resolve(ctx, row(testOrg, "grace@example.com")); err != nil || len(accts) != 1 || accts[0].State != jobs.StateActive {
		t.Errorf("Resolve(active member) = %+v, %v; want it, active", accts, err)
	}
	if accts, err := c.Resolve(ctx, row(testOrg, "nobody@example.com")); err != nil || len(accts) != 0 {
		t.Errorf("Resolve(nobody) = %+v, %v; want none", accts, err)
	}
	// By slug: one Get Organization, remembered for the next row.
	for range 2 {
		if accts, err := c.Resolve(ctx, row("acme", "ada@example.com")); err != nil || len(accts) != 1 {
			t.Errorf("Resolve(by slug) = %+v, %v; want the member", accts, err)
		}
	}
	if n := f.Requests("/v1/b2b/organizations/acme"); n != 1 {
		t.Errorf("organization look-ups = %d, want 1", n)
	}
	if accts, err := c.Resolve(ctx, row("no-such-org", "ada@example.com")); err != nil || len(accts) != 0 {
		t.Errorf("Resolve(unknown org) = %+v, %v; want none", accts, err)
	}
	f.SetSecret("rotated")
	if _, err := c.Resolve(ctx, row(testOrg, "ada@example.com")); !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Resolve with a refused secret = %v, want jobs.ErrFatal", err)
	}
	if res := c.Reactivate(ctx, row(testOrg, "ada@example.com")); res.Called || res.Class != jobs.ClassRejected {
		t.Errorf("Reactivate(unresolved row) = %+v, want rejected uncalled", res)
	}
}
