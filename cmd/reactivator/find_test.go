package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/ingest"
	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

// TestFindZitadelThenRun finds the inactive users of an org over two pages, checks that ingest
// reads the file, then runs it: every found user is active again.
func TestFindZitadelThenRun(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	for _, id := range []string{"300000000000000001", "300000000000000002", "300000000000000003"} {
		w.zitadel.AddUser(id, wZOrg, fakeidp.ZitadelInactive)
	}
	w.zitadel.AddUser("300000000000000009", wZOrg, fakeidp.ZitadelActive)
	out := filepath.Join(w.dir, "found.csv")
	r := w.run("find", "zitadel", "--org", wZOrg, "--page-size", "2", "-o", out)
	if r.code != exitOK || !strings.Contains(r.stdout, "found 3 zitadel accounts") || !strings.Contains(r.stderr, "inactive users listed") {
		t.Fatalf("find = %v, want 3 accounts found, progress on stderr", r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if header, _, _ := strings.Cut(string(b), "\n"); header != "user_id,org_id,email,state,deactivated_at,deactivated_by" {
		t.Errorf("header = %q", header)
	}
	s, err := ingest.Check(out, strings.NewReader(string(b)), ingest.Options{})
	if err != nil || s.Provider != jobs.Zitadel || s.Rows != 3 || s.Invalid != 0 {
		t.Fatalf("ingest.Check(found) = %+v, %v, want 3 valid ZITADEL rows", s, err)
	}
	if r := w.run("run", "--report", filepath.Join(w.dir, "found.report.csv"), out); r.code != exitOK {
		t.Fatalf("run found.csv = %v, want exit 0", r)
	}
	for _, id := range []string{"300000000000000001", "300000000000000002", "300000000000000003"} {
		if got := w.zitadel.State(id); got != fakeidp.ZitadelActive {
			t.Errorf("user %s = %s after run, want active", id, got)
		}
	}
}

func TestFindStytchThenRun(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.stytch.AddMember(wOrgID, stytchMember(1), fakeidp.StytchDeleted, true)
	w.stytch.AddMember(wOrgID, stytchMember(2), fakeidp.StytchDeleted, true)
	w.stytch.AddMember(wOrgID, stytchMember(3), fakeidp.StytchActive, true)
	out := filepath.Join(w.dir, "members.csv")
	r := w.run("find", "stytch", "--org", "acme", "--json", "-o", out)
	var sum struct {
		Accounts int `json:"accounts"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &sum) != nil || sum.Accounts != 2 {
		t.Fatalf("find stytch = %v, want a JSON summary of 2 accounts", r)
	}
	if r := w.run("run", "--report", filepath.Join(w.dir, "members.report.csv"), out); r.code != exitOK {
		t.Fatalf("run members.csv = %v, want exit 0", r)
	}
	if got := w.stytch.Status(wOrgID, stytchMember(2)); got != fakeidp.StytchActive {
		t.Errorf("member 2 = %s after run, want active", got)
	}
}

func TestFindRefusals(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.zitadel.AddServiceUser("weak-token-1234567890", wZOrg, fakeidp.Membership{OrgID: wZOrg, Roles: []string{fakeidp.RoleOrgUserManager}})
	// ZITADEL answers ListUsers of a service user without a role with 200 and only itself: find
	// must refuse it (and a viewer, who may reactivate no one) before listing.
	w.zitadel.AddServiceUser("norole-token-1234567890", wZOrg)
	w.zitadel.AddServiceUser("viewer-token-1234567890", wZOrg, fakeidp.Membership{OrgID: wZOrg, Roles: []string{fakeidp.RoleOrgOwnerViewer}})
	w.zitadel.AddUser("300000000000000001", wZOrg, fakeidp.ZitadelInactive)
	w.secrets = append(w.secrets, "norole-token-1234567890", "viewer-token-1234567890")
	empty := filepath.Join(w.dir, "empty.csv")
	if r := w.run("find", "zitadel", "--email-domain", "nobody.test", "-o", empty); r.code != exitOK || !strings.Contains(r.stdout, "header only") {
		t.Errorf("find with no match = %v, want exit 0 saying header only", r)
	}
	if b, _ := os.ReadFile(empty); string(b) != "user_id,org_id,email,state,deactivated_at,deactivated_by\n" {
		t.Errorf("empty result file = %q, want the header only", b)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"after > before", nil, []string{"zitadel", "--deactivated-after", "1h", "--deactivated-before", "2h"}, exitUsage, "later than"},
		{"bad time", nil, []string{"zitadel", "--deactivated-after", "yesterday"}, exitUsage, "RFC 3339"},
		{"unknown slug", nil, []string{"stytch", "--org", "acme", "--org", "no-such-org"}, exitUsage, "no-such-org"},
		{"no org", nil, []string{"stytch"}, exitUsage, "--org"},
		{"no events.read", map[string]string{"ZITADEL_TOKEN": "weak-token-1234567890"}, []string{"zitadel", "--deactivated-after", "2h"}, exitFatal, "IAM_OWNER"},
		{"no role", map[string]string{"ZITADEL_TOKEN": "norole-token-1234567890"}, []string{"zitadel"}, exitFatal, "has no role at all, so find would list no one a run could reactivate: grant the service user a role with user.write: ORG_USER_MANAGER"},
		{"viewer", map[string]string{"ZITADEL_TOKEN": "viewer-token-1234567890"}, []string{"zitadel"}, exitFatal, "ORG_USER_MANAGER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				old := w.getenv(k)
				w.setenv(k, v)
				defer w.setenv(k, old)
			}
			out := filepath.Join(w.dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			r := w.run(append(append([]string{"find"}, tc.args...), "-o", out)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("find %s = %v, want exit %d naming %q", tc.name, r, tc.code, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("find %s wrote %s", tc.name, out)
			}
		})
	}
}
