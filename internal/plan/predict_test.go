package plan

import (
	"testing"

	"reactivator/jobs"
)

// TestPredict covers the predictor's rules one by one, without any provider.
func TestPredict(t *testing.T) {
	t.Parallel()
	acct := func(org string, st jobs.AccountState, verified bool) *jobs.Account {
		return &jobs.Account{ID: "x", OrgID: org, State: st, EmailVerified: verified}
	}
	z := jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: "x"}
	zOrg := z
	zOrg.OrgID = "b"
	s := jobs.Row{Line: 2, Provider: jobs.Stytch, OrgID: "acme", MemberID: "x"}
	writesA := Rules{Writes: Writes{Orgs: []string{"a"}}}
	v1 := Rules{ZitadelAPI: "v1", ActingOrg: "a", Writes: Writes{Orgs: []string{"a"}}}
	for _, tc := range []struct {
		name            string
		row             jobs.Row
		facts           Facts
		rules           Rules
		outcome, reason string
	}{
		{"v2 deactivated", z, Facts{Account: acct("a", jobs.StateDeactivated, false)}, writesA, "reactivated", ""},
		{"v2 active", z, Facts{Account: acct("a", jobs.StateActive, false)}, writesA, "not_deactivated", "already_active"},
		{"v2 locked", z, Facts{Account: acct("a", jobs.StateLocked, false)}, writesA, "not_deactivated", "locked"},
		{"v2 initial", z, Facts{Account: acct("a", jobs.StateInitial, false)}, writesA, "not_deactivated", "initial"},
		{"v2 unknown state", z, Facts{Account: acct("a", jobs.StateUnknown, false)}, writesA, "not_deactivated", "state_unknown"},
		{"v2 missing", z, Facts{Account: &jobs.Account{State: jobs.StateNotFound}}, writesA, "not_found", zitadelNotFoundV2},
		{"v2 deactivated where it may not write", z, Facts{Account: acct("b", jobs.StateDeactivated, false)}, writesA, "rejected", "no_permission_in_org"},
		{"v2 active where it may not write", z, Facts{Account: acct("b", jobs.StateActive, false)}, writesA, "not_deactivated", "already_active"},
		{"v2 unreadable", z, Facts{Unreadable: "403"}, writesA, Unknown, ReasonNotReadable},
		{"v2 instance-wide", z, Facts{Account: acct("b", jobs.StateDeactivated, false)}, Rules{Writes: Writes{Instance: true}}, "reactivated", ""},
		{"v1 own org", z, Facts{Account: acct("a", jobs.StateDeactivated, false)}, v1, "reactivated", ""},
		{"v1 user of another org", z, Facts{Account: acct("b", jobs.StateDeactivated, false)}, v1, "not_found", zitadelNotFoundV1},
		{"v1 unreadable user", z, Facts{Unreadable: "403"}, v1, "not_found", zitadelNotFoundV1},
		{"v1 row org without write", zOrg, Facts{Account: acct("b", jobs.StateActive, false)}, v1, "rejected", "no_permission_in_org"},
		{"stytch deleted", s, Facts{OrgID: "o", Account: acct("o", jobs.StateDeactivated, true)}, Rules{}, "reactivated", ""},
		{"stytch deleted unverified", s, Facts{OrgID: "o", Account: acct("o", jobs.StateDeactivated, false)}, Rules{}, "unverified_email", stytchNotVerified},
		{"stytch active unverified", s, Facts{OrgID: "o", Account: acct("o", jobs.StateActive, false)}, Rules{}, "not_deactivated", "already_active"},
		{"stytch invited", s, Facts{OrgID: "o", Account: acct("o", jobs.StateInvited, true)}, Rules{}, "not_deactivated", "invited"},
		{"stytch pending", s, Facts{OrgID: "o", Account: acct("o", jobs.StatePending, true)}, Rules{}, "not_deactivated", "pending"},
		{"stytch other org", s, Facts{OrgID: "o", Account: acct("p", jobs.StateDeactivated, true)}, Rules{}, "not_found", stytchOtherOrg},
		{"stytch no member", s, Facts{OrgID: "o", Account: &jobs.Account{State: jobs.StateNotFound}}, Rules{}, "not_found", stytchNoMember},
		{"stytch no org", s, Facts{OrgMissing: true}, Rules{}, "not_found", stytchNoOrg},
	} {
		got := Predict(tc.row, tc.facts, tc.rules)
		if got.Outcome != tc.outcome || got.Reason != tc.reason {
			t.Errorf("Predict(%s) = %s/%s, want %s/%s", tc.name, got.Outcome, got.Reason, tc.outcome, tc.reason)
		}
	}
}
