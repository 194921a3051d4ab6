// This file checks the fake ZITADEL's permission model against the table: the answers of
// reactivate to service users of each kind, in each API's order of checks, and the permission
// and membership look-ups.

package fakeidp

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// Service users of the permission tests, as in the real transcripts.
const (
	pAdmin   = "admin-pat"
	pNoRole  = "norole-c-pat"
	pViewer  = "viewer-sa-pat"
	pManager = "norole-a-pat"
	pIAMUM   = "norole-b-pat"
)

// permWorld is a fake with the transcripts' service users and users.
func permWorld(t *testing.T) (*Zitadel, string) {
	t.Helper()
	z := NewZitadel("")
	z.AddToken(pAdmin, zDefaultOrg)
	z.AddServiceUser(pNoRole, zDefaultOrg)
	z.AddServiceUser(pViewer, zDefaultOrg, Membership{OrgID: zDefaultOrg, Roles: []string{RoleOrgOwnerViewer}})
	z.AddServiceUser(pManager, zDefaultOrg, Membership{OrgID: zDefaultOrg, Roles: []string{RoleOrgUserManager}},
		Membership{OrgID: zOtherOrg, Roles: []string{RoleOrgOwnerViewer}})
	z.AddServiceUser(pIAMUM, zDefaultOrg, Membership{IAM: true, Roles: []string{RoleIAMUserManager}})
	for id, u := range map[string][2]string{
		"d1": {zDefaultOrg, ZitadelInactive}, "d2": {zDefaultOrg, ZitadelActive}, "o1": {zOtherOrg, ZitadelInactive},
		"o2": {zOtherOrg, ZitadelActive}, "lock": {zDefaultOrg, ZitadelLocked}, "removed": {zDefaultOrg, ZitadelDeleted},
	} {
		z.AddUser(id, u[0], u[1])
	}
	return z, serve(t, z)
}

func TestZitadelPermissionAnswersAreTheTables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		want, caller, user, orgHeader string
	}{
		{want: "zitadel_v2/no_role", caller: pNoRole, user: "d1"},
		{want: "zitadel_v1/no_role", caller: pNoRole, user: "d1"},
		{want: "zitadel_v2/viewer", caller: pViewer, user: "d1"},
		{want: "zitadel_v1/viewer", caller: pViewer, user: "d1"},
		{want: "zitadel_v1/viewer_active_user", caller: pViewer, user: "d2"},
		{want: "zitadel_v1/viewer_unknown_user", caller: pViewer, user: "123456789012345678"},
		{want: "zitadel_v2/manager_other_org", caller: pManager, user: "o1"},
		{want: "zitadel_v1/manager_other_org_no_header", caller: pManager, user: "o1"},
		{want: "zitadel_v1/manager_other_org", caller: pManager, user: "o1", orgHeader: zOtherOrg},
		{want: "zitadel_v1/manager_other_org_active_user", caller: pManager, user: "o2", orgHeader: zOtherOrg},
		{want: "zitadel_v2/manager_other_org_active_user", caller: pManager, user: "o2"},
		{want: "zitadel_v2/no_role_active_user", caller: pNoRole, user: "d2"},
		{want: "zitadel_v2/viewer_active_user", caller: pViewer, user: "d2"},
		{want: "zitadel_v2/manager_unknown_user", caller: pManager, user: "123456789012345678"},
		{want: "zitadel_v2/locked", caller: pAdmin, user: "lock"},
		{want: "zitadel_v1/locked", caller: pAdmin, user: "lock"},
		{want: "zitadel_v2/removed", caller: pAdmin, user: "removed"},
		{want: "zitadel_v1/removed", caller: pAdmin, user: "removed"},
		{want: "zitadel_v2/success", caller: pManager, user: "d1"},
		{want: "zitadel_v1/success", caller: pManager, user: "d1"},
		{want: "zitadel_v2/success", caller: pIAMUM, user: "o1"},
		{want: "zitadel_v1/success", caller: pIAMUM, user: "o1", orgHeader: zOtherOrg},
	}
	for _, tt := range tests {
		t.Run(tt.want+"/"+tt.caller, func(t *testing.T) {
			t.Parallel()
			want := caseNamed(t, tt.want)
			z, base := permWorld(t)
			before := z.State(tt.user)
			h := map[string]string{"Authorization": "Bearer " + tt.caller}
			if tt.orgHeader != "" {
				h["X-Zitadel-Orgid"] = tt.orgHeader
			}
			a := call(t, plain, http.MethodPost, base+zitadelPath(want.API, tt.user), h, "{}")
			if a.status != want.Status || (want.Want == "reactivated") != (a.status == 200) ||
				a.status != 200 && a.body != want.Body || a.status == 200 && !sameJSONShape(t, a.body, want.Body) {
				t.Errorf("reactivate %s by %s = %d %s, want %d %s", tt.user, tt.caller, a.status, a.body, want.Status, want.Body)
			}
			wantState := before
			if a.status == 200 {
				wantState = ZitadelActive
			}
			if got := z.State(tt.user); got != wantState {
				t.Errorf("state after = %q, want %q", got, wantState)
			}
		})
	}
}

func TestZitadelProbesAreTheTables(t *testing.T) {
	t.Parallel()
	z, base := permWorld(t)
	_ = z
	callers := map[string]string{PermsSomewhere: pManager, PermsNowhere: pViewer, PermsNoRole: pNoRole, PermsInstance: pIAMUM}
	for perms, caller := range callers {
		for _, org := range []string{"", zDefaultOrg, zOtherOrg} {
			h := map[string]string{"Authorization": "Bearer " + caller}
			if org != "" {
				h["X-Zitadel-Orgid"] = org
			}
			path := "/auth/v1/permissions/zitadel/me/_search"
			want, _ := ZitadelProbeAnswer(perms, path, org)
			if a := call(t, plain, http.MethodPost, base+path, h, "{}"); a.status != 200 || !sameJSON(t, a.body, want) {
				t.Errorf("permissions of %s in %q = %d %s, want 200 %s", perms, org, a.status, a.body, want)
			}
		}
		path := "/auth/v1/memberships/me/_search"
		want, _ := ZitadelProbeAnswer(perms, path, "")
		a := call(t, plain, http.MethodPost, base+path, map[string]string{"Authorization": "Bearer " + caller}, "{}")
		if got, wantRoles := membershipRoles(t, a.body), membershipRoles(t, want); a.status != 200 || !reflect.DeepEqual(got, wantRoles) || !sameJSONShape(t, a.body, want) {
			t.Errorf("memberships of %s = %d %s (roles %v), want 200 like %s (roles %v)", perms, a.status, a.body, got, want, wantRoles)
		}
	}
	if a := call(t, plain, http.MethodPost, base+"/auth/v1/permissions/zitadel/me/_search", map[string]string{"Authorization": "Bearer nope"}, "{}"); a.status != 401 {
		t.Errorf("permissions with a bad token = %d, want 401", a.status)
	}
}

// membershipRoles reads a membership search's roles by organisation ("iam" for the instance).
func membershipRoles(t *testing.T, body string) map[string][]string {
	t.Helper()
	var ms struct {
		Result []struct {
			OrgID string   `json:"orgId"`
			IAM   bool     `json:"iam"`
			Roles []string `json:"roles"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &ms); err != nil {
		t.Errorf("memberships body %s: %v", body, err)
	}
	out := map[string][]string{}
	for _, m := range ms.Result {
		k := m.OrgID
		if m.IAM {
			k = "iam"
		}
		out[k] = m.Roles
	}
	return out
}
