// This file tests run --limit, the canary: the first N rows are called, the rest wait for the
// same command without --limit, and no account is called twice.

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/jobs"
)

func TestRunLimitThenTheRest(t *testing.T) {
	w := newCLIWorld(t)
	in := w.zitadelCSV("users.csv", 25)
	user := func(i int) string { return fmt.Sprintf("3000000000000%05d", i) }
	report := filepath.Join(w.dir, "users.report.csv")

	r := w.run("run", "--limit", "10", "--report", report, in)
	if r.code != exitOK {
		t.Fatalf("run --limit 10 = %s", r)
	}
	if !strings.Contains(r.stdout, "15 rows remain") {
		t.Errorf("run --limit 10 does not say 15 rows remain:\n%s", r)
	}
	for i := 1; i <= 25; i++ {
		want := 0
		if i <= 10 {
			want = 1
		}
		if n := w.zitadel.Calls(user(i)); n != want {
			t.Errorf("after --limit 10, user %d (line %d) got %d calls, want %d", i, i+1, n, want)
		}
	}
	run := w.onlyRun()
	if run.State == jobs.RunFinished || run.Done != 10 || run.Counts[jobs.Reactivated] != 10 {
		t.Errorf("after --limit 10 the run is %s with %d done (%v), want unfinished with 10 reactivated", run.State, run.Done, run.Counts)
	}
	_, rows := readReport(t, report)
	if got := rows[11]["outcome"]; got != string(jobs.Reactivated) {
		t.Errorf("canary report line 11 outcome = %q, want reactivated", got)
	}
	if got := rows[12]["outcome"]; got != "pending" {
		t.Errorf("canary report line 12 outcome = %q, want pending", got)
	}

	r = w.run("run", "--force", "--report", report, in)
	if r.code != exitOK {
		t.Fatalf("run without --limit after the canary = %s", r)
	}
	if strings.Contains(r.stdout, "remain") {
		t.Errorf("the full run still says rows remain:\n%s", r)
	}
	for i := 1; i <= 25; i++ {
		if n := w.zitadel.Calls(user(i)); n != 1 {
			t.Errorf("user %d got %d calls in all, want 1", i, n)
		}
	}
	if run := w.onlyRun(); run.State != jobs.RunFinished || run.Counts[jobs.Reactivated] != 25 {
		t.Errorf("after the rest the run is %s with %v, want finished with 25 reactivated", run.State, run.Counts)
	}
	_, rows = readReport(t, report)
	for i := 1; i <= 25; i++ {
		if got := rows[i+1]["outcome"]; got != string(jobs.Reactivated) {
			t.Errorf("report line %d outcome = %q, want reactivated", i+1, got)
		}
	}
}

func TestRunLimitRefusesANegativeNumber(t *testing.T) {
	w := newCLIWorld(t)
	in := w.zitadelCSV("users.csv", 2)
	if r := w.run("run", "--limit", "-1", in); r.code != exitUsage {
		t.Errorf("run --limit -1 = %s, want exit %d", r, exitUsage)
	}
	if n := w.zitadel.TotalCalls(); n != 0 {
		t.Errorf("run --limit -1 made %d calls, want 0", n)
	}
}
