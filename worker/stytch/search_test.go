// This file tests Organization and SearchMembers over real HTTP against the fake Stytch's state.

package stytch_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func TestSearchMembers(t *testing.T) {
	t.Parallel()
	s := fakeidp.NewStytch(testProject, testSecret)
	s.AddOrg(testOrg, "acme")
	s.AddMember(testOrg, "member-test-00000000-0000-4000-8000-000000000001", fakeidp.StytchDeleted, false)
	s.AddMember(testOrg, "member-test-00000000-0000-4000-8000-000000000002", fakeidp.StytchActive, true)
	s.AddMember("organization-test-00000000-0000-4000-8000-000000000009", "member-test-00000000-0000-4000-8000-000000000003", fakeidp.StytchDeleted, true)
	url, stop := fakeidp.Serve(s)
	defer stop()
	c := newClient(t, url, nil)
	id, found, err := c.Organization(t.Context(), "acme")
	if err != nil || !found || id != testOrg {
		t.Fatalf("Organization(acme) = %q, %v, %v, want %s", id, found, err, testOrg)
	}
	if _, found, err := c.Organization(t.Context(), "nobody"); err != nil || found {
		t.Errorf("Organization(nobody) = %v, %v, want not found", found, err)
	}
	got, err := c.SearchMembers(t.Context(), testOrg, []string{
		"member-test-00000000-0000-4000-8000-000000000001", "member-test-00000000-0000-4000-8000-000000000002",
		"member-test-00000000-0000-4000-8000-000000000003", "member-test-00000000-0000-4000-8000-000000000004"})
	if err != nil {
		t.Fatalf("SearchMembers = %v", err)
	}
	slices.SortFunc(got, func(a, b jobs.Account) int { return strings.Compare(a.ID, b.ID) })
	if len(got) != 2 || got[0].State != jobs.StateDeactivated || got[0].EmailVerified ||
		got[1].State != jobs.StateActive || !got[1].EmailVerified || got[1].OrgID != testOrg {
		t.Errorf("SearchMembers = %+v, want member 1 deleted without a verified email and member 2 active", got)
	}
	if n := s.Requests("/v1/b2b/organizations/members/search"); n != 1 {
		t.Errorf("SearchMembers made %d searches, want 1", n)
	}
	bad := newClient(t, url, func(c *stytch.Config) { c.Secret = "secret-test-wrongwrongwrongwrongwrongwrong" })
	if _, err := bad.SearchMembers(t.Context(), testOrg, []string{"member-test-00000000-0000-4000-8000-000000000001"}); !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("SearchMembers with a bad secret = %v, want an error wrapping ErrFatal", err)
	}
}
