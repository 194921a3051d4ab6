package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

// oneShotWorld is a world whose commands use run's embedded Redis in a state directory of the
// test's own, as a user without REDIS_URL has.
func oneShotWorld(t *testing.T) *cliWorld {
	t.Helper()
	w := newCLIWorld(t)
	w.setenv("REDIS_URL", "")
	w.setenv("REACTIVATOR_STATE_DIR", filepath.Join(w.dir, "state"))
	return w
}

// zUser is the i-th user of undo tests' ZITADEL CSVs.
func zUser(i int) string { return fmt.Sprintf("3100000000000%05d", i) }

// mixedZitadelCSV writes a ZITADEL CSV of n inactive users, then one active user (already
// active) and one unknown user (not found).
func (w *cliWorld) mixedZitadelCSV(name string, n int) string {
	w.t.Helper()
	var sb strings.Builder
	sb.WriteString("user_id,email\n")
	for i := 1; i <= n; i++ {
		w.zitadel.AddUser(zUser(i), wZOrg, fakeidp.ZitadelInactive)
		fmt.Fprintf(&sb, "%s,u%d@example.com\n", zUser(i), i)
	}
	w.zitadel.AddUser(zUser(n+1), wZOrg, fakeidp.ZitadelActive)
	fmt.Fprintf(&sb, "%s,active@example.com\n%s,nobody@example.com\n", zUser(n+1), zUser(n+2))
	return w.file(name, sb.String())
}

// ranMixed runs (one shot) a mixedZitadelCSV of n inactive users, which exits 3 for its not found
// user, and returns the run's id.
func (w *cliWorld) ranMixed(n int) string {
	w.t.Helper()
	in := w.mixedZitadelCSV("users.csv", n)
	if r := w.run("run", "--report", filepath.Join(w.dir, "users.report.csv"), in); r.code != exitSomeFailed {
		w.t.Fatalf("run = %s, want exit %d", r, exitSomeFailed)
	}
	return w.runIDOf(w.statusRuns(), "")
}

// statusRuns is `status --json`'s runs, by id.
func (w *cliWorld) statusRuns(args ...string) map[string]map[string]any {
	w.t.Helper()
	r := w.run(append([]string{"status", "--json"}, args...)...)
	var doc struct {
		Runs []map[string]any `json:"runs"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &doc) != nil {
		w.t.Fatalf("status --json = %s", r)
	}
	out := map[string]map[string]any{}
	for _, run := range doc.Runs {
		out[run["id"].(string)] = run
	}
	return out
}

// TestUndoOneShotMixedOutcomes: a one-shot run with reactivated, already active and not found
// rows, then `undo RUN` on the same embedded state: only the reactivated users are called, once
// each, and end deactivated; status links both runs; undo again reports the same undo run.
func TestUndoOneShotMixedOutcomes(t *testing.T) {
	t.Parallel()
	w := oneShotWorld(t)
	const n = 4
	id := w.ranMixed(n)
	before := map[int]int{}
	for i := 1; i <= n+2; i++ {
		before[i] = w.zitadel.Calls(zUser(i))
	}

	report := filepath.Join(w.dir, "undo.report.csv")
	r := w.run("undo", "--report", report, id[:len(id)-3])
	if r.code != exitOK {
		t.Fatalf("undo = %s, want exit 0", r)
	}
	contains(t, "undo stdout", r.stdout, "undo-"+id, "deactivated", report)
	for i := 1; i <= n+2; i++ {
		want := before[i]
		if i <= n {
			want++
		}
		if got := w.zitadel.Calls(zUser(i)); got != want {
			t.Errorf("user %d: %d calls after the undo, want %d", i, got, want)
		}
		if st := w.zitadel.State(zUser(i)); i <= n && st != fakeidp.ZitadelInactive {
			t.Errorf("user %d is %s after the undo, want %s", i, st, fakeidp.ZitadelInactive)
		}
	}
	if st := w.zitadel.State(zUser(n + 1)); st != fakeidp.ZitadelActive {
		t.Errorf("the already active user is %s after the undo, want %s: the run did not reactivate it", st, fakeidp.ZitadelActive)
	}
	_, rows := readReport(t, report)
	if len(rows) != n {
		t.Errorf("undo report has %d rows, want %d", len(rows), n)
	}
	for line, row := range rows {
		if row["outcome"] != string(jobs.Deactivated) || row["email"] == "" {
			t.Errorf("undo report line %d = %v, want deactivated with the input's email", line, row)
		}
	}

	runs := w.statusRuns()
	orig, undo := runs[id], runs["undo-"+id]
	if orig["undone_by"] != "undo-"+id || undo["undo_of"] != id || undo["action"] != "deactivate" || orig["action"] != "reactivate" {
		t.Errorf("status --json links: run %v, undo run %v; want undone_by and undo_of", orig, undo)
	}
	if u, _ := orig["undone"].(map[string]any); u == nil || u["deactivated"] != float64(n) || u["total"] != float64(n) || u["status"] != "finished" {
		t.Errorf("status --json undone = %v, want %d of %d deactivated, finished", orig["undone"], n, n)
	}
	d := w.run("status")
	contains(t, "status", d.stdout, "undo of "+id, "(undone by undo-"+id+")")
	d = w.run("status", id)
	contains(t, "status RUN", d.stdout, "undone", "by undo-"+id, fmt.Sprintf("%d of %d deactivated", n, n))
	d = w.run("status", "undo-"+id)
	contains(t, "status undo-RUN", d.stdout, "undoes", "run "+id)

	// Again: the same undo run, nothing called.
	calls := w.zitadel.TotalCalls()
	r = w.run("undo", "--force", "--report", report, id)
	if r.code != exitOK || w.zitadel.TotalCalls() != calls {
		t.Errorf("undo again = %s with %d more calls, want exit 0 and none", r, w.zitadel.TotalCalls()-calls)
	}
	contains(t, "undo again", r.stderr, "was undone before")

	// An undo run is not undone in turn; an unknown run is an error (exit 1), as for cancel and status.
	if r := w.run("undo", "undo-"+id); r.code != exitError || !strings.Contains(r.stderr, "cannot be undone") {
		t.Errorf("undo of an undo run = %s, want exit %d saying it cannot be undone", r, exitError)
	}
	if r := w.run("undo", "zitadel-000000000000"); r.code != exitError || !strings.Contains(r.stderr, `no run "zitadel-000000000000"`) {
		t.Errorf("undo of an unknown run = %s, want exit %d", r, exitError)
	}
}

// runIDOf returns the one run id of runs that starts with prefix (and is not an undo run).
func (w *cliWorld) runIDOf(runs map[string]map[string]any, prefix string) string {
	w.t.Helper()
	for id := range runs {
		if strings.HasPrefix(id, prefix) && !strings.HasPrefix(id, jobs.UndoPrefix) {
			return id
		}
	}
	w.t.Fatalf("no run in %v", runs)
	return ""
}

// TestUndoConfirmation: on a terminal undo names the provider, base URL, environment and number
// of accounts, warns about Stytch's delete, and an answer other than y calls and creates nothing.
func TestUndoConfirmation(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	in := w.stytchCSV("members.csv", 3)
	if r := w.run("run", "--report", filepath.Join(w.dir, "m.report.csv"), in); r.code != exitOK {
		t.Fatalf("run = %s", r)
	}
	id := w.onlyRun().ID
	calls := w.stytch.TotalCalls()
	r := w.runWithInput(ttyInput{strings.NewReader("n\n")}, "undo", id)
	if r.code != exitError {
		t.Errorf("undo answered n = %s, want exit %d", r, exitError)
	}
	contains(t, "undo prompt", r.stderr, "deactivate", "Proceed? [y/N]", "stytch", w.getenv("STYTCH_BASE_URL"), "environment test",
		"3 rows", "sessions, passwords and MFA", "not documented", "not confirmed")
	if got := w.stytch.TotalCalls(); got != calls {
		t.Errorf("undo answered n made %d calls, want none", got-calls)
	}
	if _, err := w.store.Run(context.Background(), "undo-"+id); err == nil {
		t.Errorf("undo answered n created undo-%s, want nothing", id)
	}
}

// TestUndoRefusesARunStillRunning: with a shared Redis and no worker, an ingested run is not
// finished: undo refuses (exit 1) saying so, and queues nothing.
func TestUndoRefusesARunStillRunning(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	if r := w.run("ingest", w.zitadelCSV("users.csv", 2)); r.code != exitOK {
		t.Fatalf("ingest = %s", r)
	}
	id := w.onlyRun().ID
	r := w.run("undo", "--yes", id)
	if r.code != exitError {
		t.Errorf("undo of a run still running = %s, want exit %d", r, exitError)
	}
	contains(t, "undo stderr", r.stderr, "is still running", "reactivator status "+id+" --wait", "reactivator cancel "+id)
	if _, err := w.store.Run(context.Background(), "undo-"+id); err == nil {
		t.Errorf("a refused undo created undo-%s", id)
	}
}

// TestUndoFleetWait: with a shared Redis, undo queues undo-RUN for the workers and --wait waits
// for them; the worker deactivates exactly the reactivated rows.
func TestUndoFleetWait(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	in := w.mixedZitadelCSV("users.csv", 3)
	w.startWorker()
	if r := w.run("ingest", "--wait", in); r.code != exitSomeFailed {
		t.Fatalf("ingest --wait = %s, want exit %d", r, exitSomeFailed)
	}
	id := w.onlyRun().ID
	r := w.run("undo", "--wait", id)
	if r.code != exitOK {
		t.Fatalf("undo --wait = %s, want exit 0", r)
	}
	if u := w.runOf("undo-" + id); u.Counts[jobs.Deactivated] != 3 || u.Total != 3 {
		t.Errorf("undo run counts = %v of %d rows, want 3 deactivated of 3", u.Counts, u.Total)
	}
}

// TestUndoInterruptedResumes interrupts a one-shot undo (Ctrl-C: its context ends) mid-way, then
// runs it again: every reactivated user ends deactivated with exactly one outcome, and a user
// whose undo row had its outcome at the interrupt is not called again.
func TestUndoInterruptedResumes(t *testing.T) {
	t.Parallel()
	w := oneShotWorld(t)
	const n = 40
	id := w.ranMixed(n)
	reactivateCalls := w.zitadel.TotalCalls()
	w.zitadel.SetFaults(fakeidp.Faults{Latency: 100 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for w.zitadel.TotalCalls() < reactivateCalls+8 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	args := []string{"undo", "--rate", "zitadel=20", "--concurrency", "4", "--report", filepath.Join(w.dir, "undo.report.csv"), id}
	if r := w.runCtx(ctx, args...); r.code != exitInterrupted {
		t.Fatalf("interrupted undo = %s, want exit %d", r, exitInterrupted)
	}
	mid := filepath.Join(w.dir, "mid.csv")
	if r := w.run("report", "undo-"+id, "-o", mid); r.code != exitOK {
		t.Fatalf("report of the interrupted undo = %s", r)
	}
	_, rows := readReport(t, mid)
	doneAt := map[string]bool{}
	for _, row := range rows {
		if row["outcome"] == string(jobs.Deactivated) {
			doneAt[row["user_id"]] = true
		}
	}
	if len(doneAt) == 0 || len(doneAt) >= n {
		t.Fatalf("%d of %d rows had an outcome at the interrupt: it did not come mid-way", len(doneAt), n)
	}
	callsAt := map[string]int{}
	for i := 1; i <= n; i++ {
		callsAt[zUser(i)] = w.zitadel.Calls(zUser(i))
	}

	w.zitadel.SetFaults(fakeidp.Faults{})
	if r := w.run(args...); r.code != exitOK {
		t.Fatalf("resumed undo = %s, want exit 0", r)
	}
	_, rows = readReport(t, filepath.Join(w.dir, "undo.report.csv"))
	if len(rows) != n {
		t.Fatalf("undo report has %d rows, want %d", len(rows), n)
	}
	for line, row := range rows {
		if row["outcome"] != string(jobs.Deactivated) {
			t.Errorf("undo line %d = %s (%s), want deactivated", line, row["outcome"], row["message"])
		}
	}
	for i := 1; i <= n; i++ {
		u := zUser(i)
		got := w.zitadel.Calls(u) - 1 // its reactivate
		switch {
		case doneAt[u] && w.zitadel.Calls(u) != callsAt[u]:
			t.Errorf("user %d had its undo outcome at the interrupt but was called again", i)
		case got < 1 || got > 2:
			t.Errorf("user %d got %d deactivate calls, want 1 (2 only for a call on the wire at the interrupt)", i, got)
		}
		if st := w.zitadel.State(u); st != fakeidp.ZitadelInactive {
			t.Errorf("user %d is %s, want %s", i, st, fakeidp.ZitadelInactive)
		}
	}
}

// TestUndoExitCodes: undo exits 3 when a row is not deactivated (a user removed since the run:
// not_found) and 4 when ZITADEL refuses the credentials; the refused undo calls nothing, and the
// same command finishes once the cause is fixed.
func TestUndoExitCodes(t *testing.T) {
	t.Parallel()
	w := oneShotWorld(t)
	const n = 3
	id := w.ranMixed(n)

	// Revoked credentials: refused before any call, exit 4.
	w.zitadel.RevokeTokens()
	calls := w.zitadel.TotalCalls()
	report := filepath.Join(w.dir, "undo.report.csv")
	if r := w.run("undo", "--report", report, id); r.code != exitFatal {
		t.Errorf("undo with revoked credentials = %s, want exit %d", r, exitFatal)
	}
	if got := w.zitadel.TotalCalls() - calls; got != 0 {
		t.Errorf("undo with revoked credentials made %d calls, want 0", got)
	}

	// Credentials back, user 2 removed since the run: the undo finishes with one failure, exit 3.
	w.zitadel.AddToken(wToken, wZOrg)
	w.zitadel.Script(zUser(2), caseNamed(t, "zitadel_v2/deactivate_removed"))
	r := w.run("undo", "--report", report, id)
	if r.code != exitSomeFailed {
		t.Fatalf("undo with a removed user = %s, want exit %d", r, exitSomeFailed)
	}
	_, rows := readReport(t, report)
	for line, want := range map[int]jobs.Outcome{2: jobs.Deactivated, 3: jobs.NotFound, 4: jobs.Deactivated} {
		if got := jobs.Outcome(rows[line]["outcome"]); got != want {
			t.Errorf("undo report line %d = %s (%s), want %s", line, got, rows[line]["message"], want)
		}
	}
}

// TestUndoStytchMemberDeletedBySomeoneElse: a one-shot Stytch undo whose member someone else
// deleted since the run ends that row not_active, nothing undone, and exits 0 (not_active is not
// a failure); a member that no longer exists at all ends not_found, exit 3.
func TestUndoStytchMemberDeletedBySomeoneElse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(w *cliWorld)
		code    int
		outcome jobs.Outcome
		says    func(w *cliWorld) string
	}{
		{"deleted by someone else", func(w *cliWorld) { w.stytch.AddMember(wOrgID, stytchMember(2), fakeidp.StytchDeleted, true) }, exitOK, jobs.NotActive,
			func(w *cliWorld) string {
				return "the account was already deleted at " + w.stytch.UpdatedAt(stytchMember(2)).UTC().Format(time.RFC3339) + ", before this undo's delete, which found it gone: not by this undo; nothing was undone"
			}},
		{"gone altogether", func(w *cliWorld) { w.stytch.RemoveMember(stytchMember(2)) }, exitSomeFailed, jobs.NotFound,
			func(*cliWorld) string { return "a read finds no such account, deleted or not" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := oneShotWorld(t)
			if r := w.run("run", "--report", filepath.Join(w.dir, "m.report.csv"), w.stytchCSV("members.csv", 3)); r.code != exitOK {
				t.Fatalf("run = %s, want exit 0", r)
			}
			id := w.runIDOf(w.statusRuns(), "")
			tt.change(w)
			report := filepath.Join(w.dir, "undo.report.csv")
			if r := w.run("undo", "--report", report, id); r.code != tt.code {
				t.Errorf("undo = %s, want exit %d", r, tt.code)
			}
			_, rows := readReport(t, report)
			want := map[int]jobs.Outcome{2: jobs.Deactivated, 3: tt.outcome, 4: jobs.Deactivated}
			for line, o := range want {
				if got := jobs.Outcome(rows[line]["outcome"]); got != o {
					t.Errorf("undo report line %d = %s (%s), want %s", line, got, rows[line]["message"], o)
				}
			}
			if row := rows[3]; row["reason"] != "member_not_found" || !strings.Contains(row["message"], tt.says(w)) {
				t.Errorf("undo report line 3 = %s / %s (%s), want reason member_not_found saying %q", row["outcome"], row["reason"], row["message"], tt.says(w))
			}
		})
	}
}
