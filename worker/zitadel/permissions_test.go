// This file tests the permission model against the fake ZITADEL over real HTTP: service users
// without a role, with a viewer role, org user managers and instance user managers.

package zitadel

import (
	"errors"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

const (
	ownOrg   = "401899638682091521"
	otherOrg = "401899899316076545"
)

// permFake serves a fake ZITADEL with one inactive user per organisation (u-own, u-other) and a
// service user per kind, by token.
func permFake(t *testing.T) (*fakeidp.Zitadel, string) {
	t.Helper()
	z := fakeidp.NewZitadel("127.0.0.1")
	z.AddServiceUser("tok-norole", ownOrg)
	z.AddServiceUser("tok-viewer", ownOrg, fakeidp.Membership{OrgID: ownOrg, Roles: []string{fakeidp.RoleOrgOwnerViewer}})
	z.AddServiceUser("tok-manager", ownOrg, fakeidp.Membership{OrgID: ownOrg, Roles: []string{fakeidp.RoleOrgUserManager}},
		fakeidp.Membership{OrgID: otherOrg, Roles: []string{fakeidp.RoleOrgOwnerViewer}})
	z.AddServiceUser("tok-iam", ownOrg, fakeidp.Membership{IAM: true, Roles: []string{fakeidp.RoleIAMUserManager}})
	z.AddUser("u-own", ownOrg, fakeidp.ZitadelInactive)
	z.AddUser("u-other", otherOrg, fakeidp.ZitadelInactive)
	base, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	return z, base
}

func TestPermissionModelAgainstTheFake(t *testing.T) {
	t.Parallel()
	type want struct {
		class  jobs.Class
		reason string
		in     string
	}
	tests := []struct {
		name, token, api string
		rowOrg           bool
		own, other       want
		checkFatal       bool
		scope            string
	}{
		{name: "no role v2", token: "tok-norole", api: APIv2, checkFatal: true,
			own: want{class: jobs.ClassFatal, in: "IAM_USER_MANAGER"}, other: want{class: jobs.ClassFatal, in: "ORG_USER_MANAGER"}},
		{name: "no role v1", token: "tok-norole", api: APIv1, rowOrg: true, checkFatal: true,
			own: want{class: jobs.ClassFatal, in: "no role"}, other: want{class: jobs.ClassFatal, in: "no role"}},
		{name: "viewer v2", token: "tok-viewer", api: APIv2, checkFatal: true,
			own: want{class: jobs.ClassFatal, in: "no user.write"}, other: want{class: jobs.ClassFatal, in: "IAM_USER_MANAGER"}},
		{name: "viewer v1", token: "tok-viewer", api: APIv1, rowOrg: true, checkFatal: true,
			own: want{class: jobs.ClassFatal, in: "no user.write"}, other: want{class: jobs.ClassFatal, in: "no user.write"}},
		{name: "org manager v2", token: "tok-manager", api: APIv2, scope: ownOrg,
			own: want{class: jobs.ClassReactivated}, other: want{class: jobs.ClassRejected, reason: jobs.ReasonNoPermissionInOrg, in: "ORG_USER_MANAGER there"}},
		{name: "org manager v1 with org ids", token: "tok-manager", api: APIv1, rowOrg: true, scope: ownOrg,
			own: want{class: jobs.ClassReactivated}, other: want{class: jobs.ClassRejected, reason: jobs.ReasonNoPermissionInOrg}},
		{name: "org manager v1 without org ids", token: "tok-manager", api: APIv1, scope: ownOrg,
			own: want{class: jobs.ClassReactivated}, other: want{class: jobs.ClassNotFound, in: "give the row's org_id"}},
		{name: "instance manager v2", token: "tok-iam", api: APIv2, scope: "every organisation",
			own: want{class: jobs.ClassReactivated}, other: want{class: jobs.ClassReactivated}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z, base := permFake(t)
			c, err := New(t.Context(), Config{BaseURL: base, Token: tc.token, API: tc.api})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check(t.Context())
			if errors.Is(err, jobs.ErrFatal) != tc.checkFatal || (err != nil) != tc.checkFatal {
				t.Errorf("Check() = %v, want fatal %v", err, tc.checkFatal)
			}
			if err != nil && (strings.Contains(err.Error(), "ZITADEL_URL") || !strings.Contains(err.Error(), "IAM_USER_MANAGER")) {
				t.Errorf("Check() = %q, want the role to grant and no word of ZITADEL_URL", err)
			}
			if re := (*jobs.RoleError)(nil); err != nil && (!errors.As(err, &re) || !strings.Contains(re.Grant, "IAM_USER_MANAGER")) {
				t.Errorf("Check() = %#v, want a *jobs.RoleError naming IAM_USER_MANAGER", err)
			}
			if !strings.Contains(c.Scope(), tc.scope) {
				t.Errorf("Scope() = %q, want %q in it", c.Scope(), tc.scope)
			}
			for _, u := range []struct {
				id, org string
				want    want
			}{{"u-own", ownOrg, tc.own}, {"u-other", otherOrg, tc.other}} {
				row := jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: u.id}
				if tc.rowOrg {
					row.OrgID = u.org
				}
				res := c.Reactivate(t.Context(), row)
				if res.Class != u.want.class || res.Reason != u.want.reason || !strings.Contains(res.Message, u.want.in) {
					t.Errorf("Reactivate(%s) = %q reason %q (%s), want %q reason %q with %q", u.id, res.Class, res.Reason, res.Message, u.want.class, u.want.reason, u.want.in)
				}
				if res.Class == jobs.ClassFatal && strings.Contains(res.Message, "ZITADEL_URL") {
					t.Errorf("Reactivate(%s) message %q points at ZITADEL_URL for a permission problem", u.id, res.Message)
				}
				// Every fatal answer here is for want of a role: Grant says which, for the pause.
				if wantGrant := res.Class == jobs.ClassFatal; strings.Contains(res.Grant, "IAM_USER_MANAGER") != wantGrant || (res.Grant != "") != wantGrant {
					t.Errorf("Reactivate(%s) = %q Grant %q, want the roles to grant only on a fatal answer", u.id, res.Class, res.Grant)
				}
				wantState := fakeidp.ZitadelInactive
				if u.want.class == jobs.ClassReactivated {
					wantState = fakeidp.ZitadelActive
				}
				if got := z.State(u.id); got != wantState {
					t.Errorf("state of %s = %q, want %q", u.id, got, wantState)
				}
			}
		})
	}
}

// TestPermissionProbeIsCached checks that many 403s cost one probe, not one each.
func TestPermissionProbeIsCached(t *testing.T) {
	t.Parallel()
	z, base := permFake(t)
	c, err := New(t.Context(), Config{BaseURL: base, Token: "tok-manager"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		z.AddUser("u-other", otherOrg, fakeidp.ZitadelInactive)
		if res := c.Reactivate(t.Context(), jobs.Row{Line: 2 + i, Provider: jobs.Zitadel, UserID: "u-other"}); res.Reason != jobs.ReasonNoPermissionInOrg {
			t.Fatalf("Reactivate = %+v, want no_permission_in_org", res)
		}
	}
	probes := 0
	for _, p := range z.LastPaths() {
		if strings.HasPrefix(p, "/auth/v1/") {
			probes++
		}
	}
	// One membership search, then the permissions of each of the two organisations.
	if probes != 3 {
		t.Errorf("permission look-ups = %d (%v), want 3", probes, z.LastPaths())
	}
}

// TestPermissionGrantedAfterAPauseIsSeen checks that a role granted after a fatal 403 (the
// operator's fix before resume) is seen by the next 403 at once, not after the cache's lifetime.
func TestPermissionGrantedAfterAPauseIsSeen(t *testing.T) {
	t.Parallel()
	z, base := permFake(t)
	c, err := New(t.Context(), Config{BaseURL: base, Token: "tok-viewer"})
	if err != nil {
		t.Fatal(err)
	}
	row := jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: "u-other"}
	if res := c.Reactivate(t.Context(), row); res.Class != jobs.ClassFatal {
		t.Fatalf("Reactivate by a viewer = %+v, want fatal", res)
	}
	// Granted ORG_USER_MANAGER of its own organisation: the other organisation's user is now a
	// rejected row, not a pause.
	z.AddServiceUser("tok-viewer", ownOrg, fakeidp.Membership{OrgID: ownOrg, Roles: []string{fakeidp.RoleOrgUserManager}})
	if res := c.Reactivate(t.Context(), row); res.Class != jobs.ClassRejected || res.Reason != jobs.ReasonNoPermissionInOrg {
		t.Errorf("Reactivate after the grant = %q %q (%s), want rejected / no_permission_in_org", res.Class, res.Reason, res.Message)
	}
}
