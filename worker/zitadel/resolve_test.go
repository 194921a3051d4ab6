// This file tests Resolve over real HTTP against the fake ZITADEL: the bodies it sends (as the
// real server reads them) and how it reads the answers.

package zitadel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func TestLookupBody(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		l          jobs.Lookup
		value, org string
		want       string
	}{
		{jobs.LookupEmail, "ada@example.com", "", `{"queries":[{"emailQuery":{"emailAddress":"ada@example.com","method":"TEXT_QUERY_METHOD_EQUALS"}}],"query":{"asc":true,"limit":20,"offset":"0"}}`},
		{jobs.LookupLoginName, "ada@acme", "", `{"queries":[{"loginNameQuery":{"loginName":"ada@acme","method":"TEXT_QUERY_METHOD_EQUALS"}}],"query":{"asc":true,"limit":20,"offset":"0"}}`},
		{jobs.LookupUsername, "ada", "7", `{"queries":[{"userNameQuery":{"userName":"ada","method":"TEXT_QUERY_METHOD_EQUALS"}},{"organizationIdQuery":{"organizationId":"7"}}],"query":{"asc":true,"limit":20,"offset":"0"}}`},
	} {
		b, err := LookupBody(tt.l, tt.value, tt.org, 20)
		if err != nil || string(b) != tt.want {
			t.Errorf("LookupBody(%s, %s, %q) = %s, %v; want %s", tt.l, tt.value, tt.org, b, err, tt.want)
		}
	}
	if _, err := LookupBody("phone", "1", "", 20); err == nil {
		t.Error("LookupBody(phone) = nil error, want a refusal")
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	z := fakeidp.NewZitadel("127.0.0.1")
	url, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	const own, other = "400907376431008806", "500907376431008806"
	z.AddToken("tok-iam", own)
	z.AddServiceUser("tok-norole", own)
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "1001", OrgID: own, State: fakeidp.ZitadelInactive, UserName: "ada", Email: "ada@example.com"})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "1002", OrgID: other, State: fakeidp.ZitadelActive, UserName: "ada", Email: "ada2@example.com"})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "1003", OrgID: other, State: fakeidp.ZitadelDeleted, UserName: "gone", Email: "gone@example.com"})
	client := func(tok string) *Client {
		c, err := New(context.Background(), Config{BaseURL: url, Token: tok, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := client("tok-iam")
	row := func(l jobs.Lookup, v, org string) jobs.Row {
		return jobs.Row{Line: 2, Provider: jobs.Zitadel, OrgID: org, Lookup: l, LookupValue: v}
	}
	for _, tt := range []struct {
		name string
		row  jobs.Row
		want []string
	}{
		{"one by email", row(jobs.LookupEmail, "ada@example.com", ""), []string{"1001/" + own + "/deactivated"}},
		{"two by user name", row(jobs.LookupUsername, "ada", ""), []string{"1001/" + own + "/deactivated", "1002/" + other + "/active"}},
		{"one by user name in an org", row(jobs.LookupUsername, "ada", other), []string{"1002/" + other + "/active"}},
		{"none: exact, not a prefix", row(jobs.LookupEmail, "ada@example.co", ""), nil},
		{"none: a removed user", row(jobs.LookupUsername, "gone", ""), nil},
	} {
		accts, err := c.Resolve(context.Background(), tt.row)
		var got []string
		for _, a := range accts {
			got = append(got, a.ID+"/"+a.OrgID+"/"+string(a.State))
		}
		if err != nil || len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) || (len(got) > 1 && got[1] != tt.want[1]) {
			t.Errorf("%s: Resolve = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// ZITADEL answers ListUsers of a service user without any role with 200 and only itself
	// (docs/providers.md, "Listing users"): Resolve finds no one, and says nothing more;
	// CheckLookups, which a worker asks before its first lookup, refuses.
	if accts, err := client("tok-norole").Resolve(context.Background(), row(jobs.LookupEmail, "ada@example.com", "")); err != nil || len(accts) != 0 {
		t.Errorf("Resolve without any role = %v, %v; want none, no error, as the real server answers", accts, err)
	}
	if _, err := client("tok-unknown").Resolve(context.Background(), row(jobs.LookupEmail, "ada@example.com", "")); !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Resolve with a refused token = %v, want jobs.ErrFatal", err)
	}
	if _, err := c.Resolve(context.Background(), jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: "1001"}); err == nil {
		t.Error("Resolve(an id row) = nil error, want a refusal")
	}
	if res := c.Reactivate(context.Background(), row(jobs.LookupEmail, "ada@example.com", "")); res.Called || res.Class != jobs.ClassRejected {
		t.Errorf("Reactivate(unresolved row) = %+v, want rejected uncalled", res)
	}
}

// TestCheckLookups: the check a worker makes before its first lookup refuses, as fatal and
// naming the role to grant, a service user without any role and one that may only read users;
// it passes one that may write users somewhere.
func TestCheckLookups(t *testing.T) {
	t.Parallel()
	z := fakeidp.NewZitadel("127.0.0.1")
	url, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	const own = "400907376431008806"
	z.AddServiceUser("tok-norole", own)
	z.AddServiceUser("tok-viewer", own, fakeidp.Membership{OrgID: own, Roles: []string{fakeidp.RoleOrgOwnerViewer}})
	z.AddServiceUser("tok-manager", own, fakeidp.Membership{OrgID: own, Roles: []string{fakeidp.RoleOrgUserManager}})
	z.AddToken("tok-iam", own)
	for _, tt := range []struct {
		tok     string
		refused bool
	}{
		{"tok-norole", true},
		{"tok-viewer", true},
		{"tok-manager", false},
		{"tok-iam", false},
		{"tok-unknown", true},
	} {
		c, err := New(context.Background(), Config{BaseURL: url, Token: tt.tok, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = c.CheckLookups(context.Background())
		switch {
		case !tt.refused && err != nil:
			t.Errorf("CheckLookups(%s) = %v, want nil", tt.tok, err)
		case tt.refused && !errors.Is(err, jobs.ErrFatal):
			t.Errorf("CheckLookups(%s) = %v, want jobs.ErrFatal", tt.tok, err)
		case tt.refused && tt.tok != "tok-unknown" && !strings.Contains(err.Error(), fakeidp.RoleOrgUserManager):
			t.Errorf("CheckLookups(%s) = %v, want it to name %s", tt.tok, err, fakeidp.RoleOrgUserManager)
		}
		// The kind of refusal is typed: a missing role is a *jobs.RoleError naming the roles,
		// refused credentials are not.
		var re *jobs.RoleError
		switch isRole := errors.As(err, &re); {
		case tt.refused && tt.tok != "tok-unknown" && (!isRole || !strings.Contains(re.Grant, fakeidp.RoleOrgUserManager) || !strings.Contains(re.Grant, fakeidp.RoleIAMUserManager)):
			t.Errorf("CheckLookups(%s) = %#v, want a *jobs.RoleError granting %s or %s", tt.tok, err, fakeidp.RoleOrgUserManager, fakeidp.RoleIAMUserManager)
		case tt.tok == "tok-unknown" && isRole:
			t.Errorf("CheckLookups(%s) = %#v, want no *jobs.RoleError: the credentials are refused", tt.tok, err)
		}
	}
}
