// This file checks that the fakes' deactivate answers, from state, are the table's: the real
// ZITADEL server's per state and per kind of service user, and Stytch's delete member.

package fakeidp

import (
	"net/http"
	"testing"
)

func TestZitadelDeactivateAnswersAreTheTables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		want, caller, user, orgHeader, then string
	}{
		{want: "zitadel_v2/deactivate_active", caller: pAdmin, user: "d2", then: ZitadelInactive},
		{want: "zitadel_v1/deactivate_active", caller: pAdmin, user: "d2", then: ZitadelInactive},
		{want: "zitadel_v2/deactivate_locked", caller: pAdmin, user: "lock", then: ZitadelInactive},
		{want: "zitadel_v1/deactivate_locked", caller: pAdmin, user: "lock", then: ZitadelInactive},
		{want: "zitadel_v2/deactivate_already_inactive", caller: pAdmin, user: "d1", then: ZitadelInactive},
		{want: "zitadel_v1/deactivate_already_inactive", caller: pAdmin, user: "d1", then: ZitadelInactive},
		{want: "zitadel_v2/deactivate_initial", caller: pAdmin, user: "init", then: ZitadelInitial},
		{want: "zitadel_v1/deactivate_initial", caller: pAdmin, user: "init", then: ZitadelInitial},
		{want: "zitadel_v2/deactivate_removed", caller: pAdmin, user: "removed"},
		{want: "zitadel_v1/deactivate_removed", caller: pAdmin, user: "removed"},
		{want: "zitadel_v2/deactivate_viewer", caller: pViewer, user: "d2", then: ZitadelActive},
		{want: "zitadel_v1/deactivate_viewer", caller: pViewer, user: "d2", then: ZitadelActive},
		{want: "zitadel_v2/deactivate_no_role", caller: pNoRole, user: "d2", then: ZitadelActive},
		{want: "zitadel_v2/deactivate_no_role_already_inactive", caller: pNoRole, user: "d1", then: ZitadelInactive},
		{want: "zitadel_v1/deactivate_no_role_already_inactive", caller: pNoRole, user: "d1", then: ZitadelInactive},
		{want: "zitadel_v2/deactivate_manager_other_org", caller: pManager, user: "o2", then: ZitadelActive},
		{want: "zitadel_v2/deactivate_active", caller: pManager, user: "d2", then: ZitadelInactive},
		{want: "zitadel_v1/deactivate_active", caller: pIAMUM, user: "o2", orgHeader: zOtherOrg, then: ZitadelInactive},
	}
	for _, tt := range tests {
		t.Run(tt.want+"/"+tt.caller, func(t *testing.T) {
			t.Parallel()
			want := caseNamed(t, tt.want)
			z, base := permWorld(t)
			z.AddUser("init", zDefaultOrg, ZitadelInitial)
			h := map[string]string{"Authorization": "Bearer " + tt.caller}
			if tt.orgHeader != "" {
				h["X-Zitadel-Orgid"] = tt.orgHeader
			}
			before, _ := z.User(tt.user)
			path := "/v2/users/" + tt.user + "/deactivate"
			if want.API == "v1" {
				path = "/management/v1/users/" + tt.user + "/_deactivate"
			}
			a := call(t, plain, http.MethodPost, base+path, h, "{}")
			if a.status != want.Status || a.status != 200 && a.body != want.Body || a.status == 200 && !sameJSONShape(t, a.body, want.Body) {
				t.Errorf("deactivate %s by %s = %d %s, want %d %s", tt.user, tt.caller, a.status, a.body, want.Status, want.Body)
			}
			after, _ := z.User(tt.user)
			if tt.then != "" && after.State != tt.then {
				t.Errorf("state after = %q, want %q", after.State, tt.then)
			}
			if changed := after.Sequence != before.Sequence; changed != (a.status == 200) || changed && after.Sequence != before.Sequence+1 {
				t.Errorf("sequence %d → %d after a %d, want +1 only for a change", before.Sequence, after.Sequence, a.status)
			}
		})
	}
}

func TestStytchDeleteAnswersAreTheTables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		want, org, member, secret, then string
	}{
		{want: "stytch/delete_success", org: tOrg, member: tMember, then: StytchDeleted},
		{want: "stytch/delete_success", org: "acme", member: tMember, then: StytchDeleted},
		{want: "stytch/delete_member_not_found", org: tOrg, member: "member-test-nobody"},
		{want: "stytch/delete_organization_not_found", org: "organization-test-nowhere", member: tMember, then: StytchActive},
		{want: "stytch/delete_unauthorized_credentials", org: tOrg, member: tMember, secret: "wrong", then: StytchActive},
	}
	for _, tt := range tests {
		t.Run(tt.want+"/"+tt.org, func(t *testing.T) {
			t.Parallel()
			want := caseNamed(t, tt.want)
			s := NewStytch(tProject, tSecret)
			s.AddOrg(tOrg, "acme")
			s.AddMember(tOrg, tMember, StytchActive, true)
			secret := tSecret
			if tt.secret != "" {
				secret = tt.secret
			}
			a := call(t, plain, http.MethodDelete, serve(t, s)+"/v1/b2b/organizations/"+tt.org+"/members/"+tt.member, map[string]string{"Authorization": basic(tProject, secret)}, "")
			if got, wantBody := normaliseStytch(a.body), normaliseStytch(want.Body); a.status != want.Status || got != wantBody {
				t.Errorf("delete = %d %s, want %d %s", a.status, got, want.Status, wantBody)
			}
			if tt.then != "" {
				if got := s.Status(tOrg, tMember); got != tt.then {
					t.Errorf("status after = %q, want %q", got, tt.then)
				}
			}
		})
	}
	// Deleting a deleted member: member_not_found (Stytch does not document it).
	s := NewStytch(tProject, tSecret)
	s.AddMember(tOrg, tMember, StytchDeleted, true)
	if a := call(t, plain, http.MethodDelete, serve(t, s)+"/v1/b2b/organizations/"+tOrg+"/members/"+tMember, map[string]string{"Authorization": basic(tProject, tSecret)}, ""); a.status != 404 {
		t.Errorf("delete of a deleted member = %d %s, want 404 member_not_found", a.status, a.body)
	}
}

// TestStytchRemoveMember: a removed member is unknown to a delete and to a read, deleted members
// included, as one that never existed.
func TestStytchRemoveMember(t *testing.T) {
	t.Parallel()
	s := NewStytch(tProject, tSecret)
	s.AddMember(tOrg, tMember, StytchDeleted, true)
	s.RemoveMember(tMember)
	url, auth := serve(t, s), map[string]string{"Authorization": basic(tProject, tSecret)}
	del := call(t, plain, http.MethodDelete, url+"/v1/b2b/organizations/"+tOrg+"/members/"+tMember, auth, "")
	read := call(t, plain, http.MethodGet, url+"/v1/b2b/organizations/members/dangerously_get/"+tMember+"?include_deleted=true", auth, "")
	if want := normaliseStytch(caseNamed(t, "stytch/delete_member_not_found").Body); del.status != 404 || normaliseStytch(del.body) != want {
		t.Errorf("delete of a removed member = %d %s, want 404 %s", del.status, del.body, want)
	}
	if want := normaliseStytch(caseNamed(t, "stytch/read_member_not_found").Body); read.status != 404 || !sameJSON(t, normaliseStytch(read.body), want) {
		t.Errorf("read of a removed member = %d %s, want 404 %s", read.status, read.body, want)
	}
	if st := s.Status(tOrg, tMember); st != "" {
		t.Errorf("Status of a removed member = %q, want \"\"", st)
	}
}
