package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
)

// TestOneShotRunStaysVisible: after a one-shot `run` (embedded Redis, no REDIS_URL), `status`,
// `report` and `cancel` open the same embedded store, so the README's fix-and-retry line works
// for exactly the user who never set up a Redis.
func TestOneShotRunStaysVisible(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	const token = "zitadel-pat-binary-visible"
	z := fakeidp.NewZitadel("")
	z.AddToken(token, bZOrg)
	var sb strings.Builder
	sb.WriteString("user_id\n")
	for i := 1; i <= 4; i++ {
		z.AddUser(bUser(i), bZOrg, fakeidp.ZitadelInactive)
		fmt.Fprintf(&sb, "%s\n", bUser(i))
	}
	sb.WriteString("4999999999999999\n") // not found: one failure to retry
	zURL, zStop := fakeidp.Serve(z)
	defer zStop()
	writeFile(t, filepath.Join(dir, "users.csv"), sb.String())
	env := binaryEnv(t, stateDir, "ZITADEL_URL="+zURL, "ZITADEL_TOKEN="+token)

	if res := runBinary(t, bin, dir, env, "run", "users.csv"); res.code != exitSomeFailed {
		t.Fatalf("run = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
	st := runBinary(t, bin, dir, env, "status", "--json")
	if st.code != exitOK {
		t.Fatalf("status without REDIS_URL after a one-shot run = exit %d, want 0\n%s", st.code, st)
	}
	var doc struct {
		Runs []struct {
			ID     string         `json:"id"`
			Counts map[string]int `json:"counts"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &doc); err != nil || len(doc.Runs) != 1 {
		t.Fatalf("status --json = %v (%v), want the one-shot run\n%s", doc, err, st)
	}
	run := doc.Runs[0]
	if run.Counts["reactivated"] != 4 || run.Counts["not_found"] != 1 {
		t.Fatalf("status counts = %v, want 4 reactivated, 1 not_found", run.Counts)
	}
	rep := runBinary(t, bin, dir, env, "report", run.ID[:len(run.ID)-2], "--failed-only", "-o", "failed.csv")
	if rep.code != exitOK {
		t.Fatalf("report --failed-only without REDIS_URL = exit %d, want 0\n%s", rep.code, rep)
	}
	if _, rows := readReport(t, filepath.Join(dir, "failed.csv")); len(rows) != 1 {
		t.Fatalf("failed-only report rows = %d, want 1 (the not-found user)", len(rows))
	}
	if c := runBinary(t, bin, dir, env, "cancel", run.ID); c.code != exitOK || !strings.Contains(c.stdout+c.stderr, "already finished") {
		t.Fatalf("cancel without REDIS_URL = exit %d, want 0 saying the run is already finished\n%s", c.code, c)
	}
}
