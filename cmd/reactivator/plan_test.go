package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/internal/plan"
)

// TestPlanCommand plans a file whose rows would not all be reactivated (exit 3, a summary, the
// plan file), then one whose rows all would (exit 0, --json), and calls no write endpoint.
func TestPlanCommand(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.zitadel.AddUser("300000000000000001", wZOrg, fakeidp.ZitadelInactive)
	w.zitadel.AddUser("300000000000000002", wZOrg, fakeidp.ZitadelActive)
	mixed := filepath.Join(w.dir, "mixed.csv")
	if err := os.WriteFile(mixed, []byte("user_id,note\n300000000000000001,a\n300000000000000002,b\n300000000000000003,c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.run("plan", "--dir", w.dir, mixed)
	if r.code != exitSomeFailed || !strings.Contains(r.stdout, "reactivated      1") || !strings.Contains(r.stdout, "not_found        1") {
		t.Fatalf("plan mixed.csv = %v, want exit 3 and the counts", r)
	}
	b, err := os.ReadFile(filepath.Join(w.dir, "mixed.csv.plan.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if want := strings.Join(plan.Columns, ",") + ",note"; len(lines) != 4 || lines[0] != want || !strings.Contains(lines[2], "not_deactivated,already_active") {
		t.Errorf("mixed.csv.plan.csv =\n%s\nwant the header %s and a row per input row", b, want)
	}

	good := filepath.Join(w.dir, "good.csv")
	if err := os.WriteFile(good, []byte("user_id\n300000000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = w.run("plan", "--json", "--dir", w.dir, good)
	var sums []plan.Summary
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &sums) != nil || len(sums) != 1 || !sums[0].AllReactivated || sums[0].Counts["reactivated"] != 1 {
		t.Fatalf("plan --json good.csv = %v, want exit 0 and one summary", r)
	}
	if n := w.zitadel.TotalCalls(); n != 0 || w.zitadel.State("300000000000000001") != fakeidp.ZitadelInactive {
		t.Errorf("plan made %d reactivate calls, want none", n)
	}
}

// TestPlanRefusals: no file is a bad command line; a service user with user.write nowhere is a
// fatal refusal that names the role to grant, as check's.
func TestPlanRefusals(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	if r := w.run("plan"); r.code != exitUsage {
		t.Errorf("plan without a file = %v, want exit 2", r)
	}
	w.zitadel.AddServiceUser("viewer-token-1234567890", wZOrg, fakeidp.Membership{OrgID: wZOrg, Roles: []string{fakeidp.RoleOrgOwnerViewer}})
	w.secrets = append(w.secrets, "viewer-token-1234567890")
	w.setenv("ZITADEL_TOKEN", "viewer-token-1234567890")
	file := filepath.Join(w.dir, "users.csv")
	if err := os.WriteFile(file, []byte("user_id\n300000000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := w.run("plan", "--dir", w.dir, file); r.code != exitFatal || !strings.Contains(r.stderr, "ORG_USER_MANAGER") {
		t.Errorf("plan with a viewer = %v, want exit 4 naming the role to grant", r)
	}
	// Refused credentials are fatal too, for either provider, and read nothing.
	w.zitadel.RevokeTokens()
	if r := w.run("plan", "--dir", w.dir, file); r.code != exitFatal {
		t.Errorf("plan with a revoked ZITADEL token = %v, want exit 4", r)
	}
	members := w.stytchCSV("members.csv", 2)
	w.stytch.SetSecret("secret-test-rotated-elsewhere-0123456789")
	calls := w.stytch.TotalCalls()
	if r := w.run("plan", "--dir", w.dir, members); r.code != exitFatal || !strings.Contains(r.stderr, "STYTCH_SECRET") {
		t.Errorf("plan with a rotated Stytch secret = %v, want exit 4 naming STYTCH_SECRET", r)
	}
	if got := w.stytch.TotalCalls() - calls; got != 0 {
		t.Errorf("plan with a rotated Stytch secret made %d reactivate calls, want 0", got)
	}
}

// TestPlanAfterRunWithoutRedis: without REDIS_URL plan opens run's embedded store, so the rows
// the file's run finished keep their recorded outcome.
func TestPlanAfterRunWithoutRedis(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.setenv("REDIS_URL", "")
	w.setenv("REACTIVATOR_STATE_DIR", t.TempDir())
	w.zitadel.AddUser("300000000000000001", wZOrg, fakeidp.ZitadelInactive)
	file := filepath.Join(w.dir, "users.csv")
	if err := os.WriteFile(file, []byte("user_id\n300000000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := w.run("run", "--report", filepath.Join(w.dir, "users.report.csv"), file); r.code != exitOK {
		t.Fatalf("run = %v", r)
	}
	r := w.run("plan", "--json", "--dir", w.dir, file)
	var sums []plan.Summary
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &sums) != nil || len(sums) != 1 || !sums[0].Resumed || sums[0].Calls != 0 {
		t.Fatalf("plan after run = %v, want exit 0: the run's reactivated row kept, nothing read", r)
	}
}
