// This file tests a run with a ZITADEL service user whose permissions cover only some of the
// rows' organisations.

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

// TestRunOrgScopedServiceUser runs a file of users of two organisations with a ZITADEL service
// user that is ORG_USER_MANAGER of one of them only: the run finishes with exit 3, its own
// organisation's rows reactivated, the other's rejected with reason no_permission_in_org, and
// nothing paused.
func TestRunOrgScopedServiceUser(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	const tok, otherOrg = "zitadel-pat-of-an-org-user-manager-7Hq2", "200000000000000002"
	w.secrets = append(w.secrets, tok)
	w.zitadel.AddServiceUser(tok, wZOrg, fakeidp.Membership{OrgID: wZOrg, Roles: []string{fakeidp.RoleOrgUserManager}})
	w.setenv("ZITADEL_TOKEN", tok)
	var sb strings.Builder
	sb.WriteString("user_id;email\n")
	orgOf := map[int]string{}
	for i := 1; i <= 6; i++ {
		org := wZOrg
		if i%2 == 0 {
			org = otherOrg
		}
		id := fmt.Sprintf("3000000000000%05d", i)
		w.zitadel.AddUser(id, org, fakeidp.ZitadelInactive)
		orgOf[i+1] = org // report lines start at 2
		fmt.Fprintf(&sb, "%s;u%d@example.com\n", id, i)
	}
	path := w.file("users.csv", sb.String())
	report := filepath.Join(w.dir, "users-report.csv")
	res := w.run("run", "--report", report, path)
	if res.code != exitSomeFailed {
		t.Fatalf("run = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
	_, rows := readReport(t, report)
	if len(rows) != 6 {
		t.Fatalf("report has %d rows, want 6", len(rows))
	}
	for line, r := range rows {
		want, reason := string(jobs.Reactivated), ""
		if orgOf[line] == otherOrg {
			want, reason = string(jobs.Rejected), jobs.ReasonNoPermissionInOrg
		}
		if r["outcome"] != want || r["reason"] != reason {
			t.Errorf("line %d (org %s) = %s / %s (%s), want %s / %s", line, orgOf[line], r["outcome"], r["reason"], r["message"], want, reason)
		}
		if reason != "" && !strings.Contains(r["message"], "ORG_USER_MANAGER") {
			t.Errorf("line %d message = %q, want the role to grant", line, r["message"])
		}
	}
	if paused, err := w.store.Paused(context.Background()); err != nil || len(paused) != 0 {
		t.Errorf("paused after the run = %v, %v, want nothing paused", paused, err)
	}
}
