// This file checks that the fakes' reads, from state, are the table's read answers: the real
// server's bodies for users set up as the real ones were.

package fakeidp

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// sameJSON reports whether two bodies are equal JSON (spacing and key order aside, as protojson
// varies them).
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Errorf("body %s: %v", a, err)
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Errorf("body %s: %v", b, err)
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestZitadelReadsAreTheTables(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time { return mustTime("2026-11-30T" + s + "Z") }
	users := []ZitadelUser{
		{ID: "401901624148099073", OrgID: zDefaultOrg, State: ZitadelActive, UserName: "t2c-141355-act", Email: "t2c-141355-act@example.com", EmailVerified: true, Sequence: 2, Created: at("14:13:56.480383"), Changed: at("14:13:56.480383")},
		{ID: "401901625960038401", OrgID: zDefaultOrg, State: ZitadelInactive, UserName: "t2c-141355-deact", Email: "t2c-141355-deact@example.com", EmailVerified: true, Sequence: 3, Created: at("14:13:57.563765"), Changed: at("14:13:59.753650")},
		{ID: "401901627788754945", OrgID: zDefaultOrg, State: ZitadelLocked, UserName: "t2c-141355-lock", Email: "t2c-141355-lock@example.com", EmailVerified: true, Sequence: 3, Created: at("14:13:58.656993"), Changed: at("14:13:59.780996")},
		{ID: "401901631513296897", OrgID: zDefaultOrg, State: ZitadelInitial, UserName: "t2c-141355-init", Email: "t2c-141355-init@example.com", GivenName: "Ini", FamilyName: "Tial", Sequence: 1, Created: at("14:13:59.814916"), Changed: at("14:13:59.814916")},
		{ID: "401901631697846273", OrgID: zDefaultOrg, State: ZitadelActive, UserName: "t2c-141355-machine", Machine: true, GivenName: "t2 machine", FamilyName: "transcript machine user", Sequence: 1, Created: at("14:13:59.924001"), Changed: at("14:13:59.924001")},
		{ID: "401901577977200641", OrgID: zOtherOrg, State: ZitadelInactive, UserName: "t2a-141324-o1", Email: "t2a-141324-o1@example.com", EmailVerified: true, Sequence: 3, Created: at("14:13:28.964361"), Changed: at("14:13:30.101865")},
		{ID: "401901853123543041", OrgID: zDefaultOrg, State: ZitadelInactive, UserName: "t2f-141609-lock1", Email: "t2f-141609-lock1@example.com", EmailVerified: true, Sequence: 4, Created: at("14:16:12.953732"), Changed: at("14:16:15.313067")},
		{ID: "401901629600694273", OrgID: zDefaultOrg, State: ZitadelDeleted, UserName: "t2c-141355-del"},
		{ID: "401901572558159873", OrgID: zDefaultOrg, State: ZitadelInactive, UserName: "t2a-141324-d1"},
	}
	const (
		admin   = "admin-pat"
		noRole  = "norole-c-pat"
		manager = "norole-a-pat"
	)
	tests := []struct {
		want   string
		user   string
		caller string
		// reactivateAt, when set, reactivates the user at that time before the read.
		reactivateAt time.Time
		auth         string
	}{
		{want: "zitadel_v2/read_active", user: "401901624148099073"},
		{want: "zitadel_v2/read_inactive", user: "401901625960038401"},
		{want: "zitadel_v1/read_inactive", user: "401901625960038401"},
		{want: "zitadel_v2/read_after_reactivate", user: "401901625960038401", reactivateAt: at("14:14:00.103182")},
		{want: "zitadel_v1/read_after_reactivate", user: "401901625960038401", reactivateAt: at("14:14:00.103182")},
		{want: "zitadel_v2/read_locked", user: "401901627788754945"},
		{want: "zitadel_v2/read_initial", user: "401901631513296897"},
		{want: "zitadel_v2/read_machine", user: "401901631697846273"},
		{want: "zitadel_v2/read_other_org_by_viewer", user: "401901577977200641", caller: manager},
		{want: "zitadel_v2/read_deactivated_while_locked", user: "401901853123543041"},
		{want: "zitadel_v2/read_removed", user: "401901629600694273"},
		{want: "zitadel_v1/read_removed", user: "401901629600694273"},
		{want: "zitadel_v2/read_never_existed", user: "123456789012345678"},
		{want: "zitadel_v1/read_never_existed", user: "123456789012345678"},
		{want: "zitadel_v2/read_no_role", user: "401901572558159873", caller: noRole},
		{want: "zitadel_v1/read_no_role", user: "401901572558159873", caller: noRole},
		{want: "zitadel_v2/read_bad_token", user: "401901624148099073", auth: "Bearer not-a-token"},
		{want: "zitadel_v1/read_bad_token", user: "401901624148099073", auth: "Bearer not-a-token"},
		{want: "zitadel_v2/read_no_token", user: "401901624148099073", auth: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			want := caseNamed(t, tt.want)
			z := NewZitadel("")
			clock := newTestClock()
			z.SetClock(clock)
			z.AddToken(admin, zDefaultOrg)
			z.AddServiceUser(noRole, zDefaultOrg)
			z.AddServiceUser(manager, zDefaultOrg, Membership{OrgID: zDefaultOrg, Roles: []string{RoleOrgUserManager}},
				Membership{OrgID: zOtherOrg, Roles: []string{RoleOrgOwnerViewer}})
			for _, u := range users {
				z.AddZitadelUser(u)
			}
			base := serve(t, z)
			caller := tt.caller
			if caller == "" {
				caller = admin
			}
			auth := "Bearer " + caller
			switch tt.auth {
			case "-":
				auth = ""
			case "":
			default:
				auth = tt.auth
			}
			if !tt.reactivateAt.IsZero() {
				clock.ns.Store(tt.reactivateAt.UnixNano())
				if a := call(t, plain, http.MethodPost, base+"/v2/users/"+tt.user+"/reactivate", map[string]string{"Authorization": auth}, "{}"); a.status != 200 {
					t.Fatalf("reactivate = %d %s, want 200", a.status, a.body)
				}
			}
			path := "/v2/users/" + tt.user
			if want.API == "v1" {
				path = "/management/v1/users/" + tt.user
			}
			a := call(t, plain, http.MethodGet, base+path, map[string]string{"Authorization": auth}, "")
			if a.err != nil {
				t.Fatal(a.err)
			}
			if a.status != want.Status || !sameJSON(t, a.body, want.Body) {
				t.Errorf("GET %s = %d %s, want %d %s", path, a.status, a.body, want.Status, want.Body)
			}
			if a.header.Get("X-Request-Id") == "" {
				t.Errorf("GET %s answered without X-Request-Id", path)
			}
			checkHeaders(t, want, a, "X-Request-Id")
		})
	}
}

func TestStytchReadsAreTheTables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		want, status, secret string
		member               string
	}{
		{want: "stytch/read_active", status: StytchActive},
		{want: "stytch/read_deleted", status: StytchDeleted},
		{want: "stytch/read_invited", status: StytchInvited},
		{want: "stytch/read_pending", status: StytchPending},
		{want: "stytch/read_member_not_found", status: StytchActive, member: "member-test-nobody"},
		{want: "stytch/read_unauthorized", status: StytchActive, secret: "wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			want := caseNamed(t, tt.want)
			s := NewStytch(tProject, tSecret)
			clock := newTestClock()
			clock.ns.Store(stytchCreated.UnixNano())
			s.SetClock(clock)
			s.AddOrg(tOrg, "acme")
			s.AddMember(tOrg, tMember, tt.status, true)
			clock.ns.Store(stytchUpdated.UnixNano())
			if tt.status != StytchDeleted {
				// updated_at moves with a change: delete, then reactivate.
				s.AddMember(tOrg, tMember, StytchDeleted, true)
				s.state.Lock()
				s.members[tMember].created = stytchCreated
				s.state.Unlock()
				if a := call(t, plain, http.MethodPut, serve(t, s)+"/v1/b2b/organizations/"+tOrg+"/members/"+tMember+"/reactivate", map[string]string{"Authorization": basic(tProject, tSecret)}, "{}"); a.status != 200 {
					t.Fatalf("reactivate = %d %s", a.status, a.body)
				}
				s.state.Lock()
				s.members[tMember].status = tt.status
				s.state.Unlock()
			} else {
				s.state.Lock()
				s.members[tMember].updated = stytchUpdated
				s.state.Unlock()
			}
			member := tMember
			if tt.member != "" {
				member = tt.member
			}
			secret := tSecret
			if tt.secret != "" {
				secret = tt.secret
			}
			a := call(t, plain, http.MethodGet, serve(t, s)+"/v1/b2b/organizations/members/dangerously_get/"+member+"?include_deleted=true", map[string]string{"Authorization": basic(tProject, secret)}, "")
			if a.err != nil {
				t.Fatal(a.err)
			}
			if got, wantBody := normaliseStytch(a.body), normaliseStytch(want.Body); a.status != want.Status || !sameJSON(t, got, wantBody) {
				t.Errorf("dangerously_get = %d %s, want %d %s (request id and message aside)", a.status, got, want.Status, wantBody)
			}
		})
	}
	// Without include_deleted a deleted member is not found.
	s := NewStytch(tProject, tSecret)
	s.AddMember(tOrg, tMember, StytchDeleted, true)
	a := call(t, plain, http.MethodGet, serve(t, s)+"/v1/b2b/organizations/members/dangerously_get/"+tMember, map[string]string{"Authorization": basic(tProject, tSecret)}, "")
	if a.status != 404 || !sameJSON(t, normaliseStytch(a.body), normaliseStytch(caseNamed(t, "stytch/read_member_not_found").Body)) {
		t.Errorf("dangerously_get of a deleted member without include_deleted = %d %s, want 404 member_not_found", a.status, a.body)
	}
}
