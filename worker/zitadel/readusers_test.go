// This file tests ReadUsers and OwnOrg over real HTTP against the fake ZITADEL's state.

package zitadel

import (
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func TestReadUsers(t *testing.T) {
	t.Parallel()
	z := fakeidp.NewZitadel("")
	z.AddServiceUser(testPAT, "100", fakeidp.Membership{OrgID: "100", Roles: []string{fakeidp.RoleOrgUserManager}})
	z.AddUser("1", "100", fakeidp.ZitadelInactive)
	z.AddUser("2", "100", fakeidp.ZitadelLocked)
	z.AddUser("3", "100", fakeidp.ZitadelDeleted)
	z.AddUser("4", "200", fakeidp.ZitadelInactive) // an organisation the service user may not read
	srv := httptest.NewServer(z)
	defer srv.Close()
	c := newPATClient(t, srv, nil)
	got, err := c.ReadUsers(t.Context(), []string{"1", "2", "3", "4", "5"})
	if err != nil {
		t.Fatalf("ReadUsers = %v", err)
	}
	slices.SortFunc(got, func(a, b jobs.Account) int { return strings.Compare(a.ID, b.ID) })
	if len(got) != 2 || got[0].ID != "1" || got[0].State != jobs.StateDeactivated || got[0].OrgID != "100" ||
		got[1].ID != "2" || got[1].State != jobs.StateLocked || got[0].RequestID == "" {
		t.Errorf("ReadUsers(1..5) = %+v, want users 1 (deactivated) and 2 (locked) of org 100", got)
	}
	if n := z.Requests("/v2/users"); n != 1 {
		t.Errorf("ReadUsers made %d ListUsers calls, want 1", n)
	}
	if org, err := c.OwnOrg(t.Context()); err != nil || org != "100" {
		t.Errorf("OwnOrg = %q, %v, want 100", org, err)
	}
	if _, err := c.ReadUsers(t.Context(), make([]string, MaxReadUsers+1)); err == nil {
		t.Errorf("ReadUsers(%d ids) = nil error, want a refusal before any call", MaxReadUsers+1)
	}
	bad := newPATClient(t, srv, func(c *Config) { c.Token = "not-a-token-0123456789" })
	if _, err := bad.ReadUsers(t.Context(), []string{"1"}); !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("ReadUsers with a bad token = %v, want an error wrapping ErrFatal", err)
	}
}
