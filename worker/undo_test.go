package worker

import (
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// TestUndoDeactivatesOnlyTheReactivatedRows works a Stytch run with mixed outcomes, then its undo
// run through the same worker: only the members the run reactivated are deleted again, each with
// one call, and no other member is called.
func TestUndoDeactivatesOnlyTheReactivatedRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stytch.AddMember(orgID, member(1), "deleted", true)
	b.stytch.AddMember(orgID, member(2), "active", true)
	b.stytch.AddMember(orgID, member(3), "deleted", false)
	b.stytch.AddMember(orgID, member(4), "deleted", true)
	b.stytch.AddMember(orgID, member(6), "deleted", true)
	rows := []jobs.Row{
		{Line: 2, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(1)}, // reactivated
		{Line: 3, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(2)}, // already active
		{Line: 4, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(3)}, // unverified email
		{Line: 5, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(4)}, // reactivated
		{Line: 6, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(5)}, // not found
		{Line: 7, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(6)}, // reactivated, then deleted behind our back
	}
	b.ingestRun("orig", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	b.serve(b.windowServer(cfg))
	r := b.waitFinished("orig", time.Minute)
	if r.Counts[jobs.Reactivated] != 3 {
		t.Fatalf("run orig counts = %v, want 3 reactivated", r.Counts)
	}
	before := map[int]int{}
	for i := 1; i <= 6; i++ {
		before[i] = b.stytch.Calls(orgID + "/" + member(i))
	}
	// Member 6 is deleted again by someone else before the undo: the undo finds it not found.
	b.stytch.AddMember(orgID, member(6), "deleted", true)

	undo, created, err := b.store.CreateUndoRun(b.ctx, "orig")
	if err != nil || !created || undo.Total != 3 {
		t.Fatalf("CreateUndoRun(orig) = %+v, created %v, %v; want 3 rows", undo, created, err)
	}
	u := b.waitFinished(undo.ID, time.Minute)
	if u.Counts[jobs.Deactivated] != 2 || u.Counts[jobs.NotFound] != 1 || u.Done != 3 || u.Failures() != 1 {
		t.Errorf("undo run counts = %v, failures %d; want deactivated 2, not_found 1", u.Counts, u.Failures())
	}
	for line, want := range map[int]jobs.Outcome{2: jobs.Deactivated, 5: jobs.Deactivated, 7: jobs.NotFound} {
		if got := b.outcome(undo.ID, line); got.Outcome != want || got.Attempts != 1 {
			t.Errorf("undo line %d = %s after %d attempts, want %s after 1", line, got.Outcome, got.Attempts, want)
		}
	}
	for i, calledAgain := range map[int]bool{1: true, 2: false, 3: false, 4: true, 5: false, 6: true} {
		want := before[i]
		if calledAgain {
			want++
		}
		if got := b.stytch.Calls(orgID + "/" + member(i)); got != want {
			t.Errorf("member %d: %d calls after the undo, want %d", i, got, want)
		}
	}
	for _, i := range []int{1, 4} {
		if st := b.stytch.Status(orgID, member(i)); st != fakeidp.StytchDeleted {
			t.Errorf("member %d is %s after the undo, want %s", i, st, fakeidp.StytchDeleted)
		}
	}
	if st := b.stytch.Status(orgID, member(2)); st != fakeidp.StytchActive {
		t.Errorf("member 2 (already active, not reactivated by the run) is %s, want %s", st, fakeidp.StytchActive)
	}
}

// TestUndoZitadelNotActive undoes a ZITADEL run: a user deactivated again by someone else ends
// not_active (nothing to do, not a failure); one whose first deactivate answered 503 and whose
// retry finds it inactive ends deactivated, assumed_on_retry (that 503 most likely applied).
func TestUndoZitadelNotActive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	z := fakeidp.NewZitadel("127.0.0.1")
	url, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	const own, pat = "400907376431008806", "pat-secret-token-value"
	z.AddOrg(own)
	z.AddToken(pat, own)
	for _, id := range []string{"1001", "1002", "1003"} {
		z.AddUser(id, own, "inactive")
	}
	c, err := zitadel.New(b.ctx, zitadel.Config{BaseURL: url, Token: pat, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rows := []jobs.Row{{Line: 2, Provider: jobs.Zitadel, UserID: "1001"}, {Line: 3, Provider: jobs.Zitadel, UserID: "1002"},
		{Line: 4, Provider: jobs.Zitadel, UserID: "1003"}}
	b.ingestRun("orig", rows)
	b.serve(b.windowServer(b.config(map[jobs.Provider]Caller{jobs.Zitadel: c})))
	if r := b.waitFinished("orig", time.Minute); r.Counts[jobs.Reactivated] != 3 {
		t.Fatalf("run orig counts = %v, want 3 reactivated", r.Counts)
	}
	z.AddUser("1002", own, "inactive")
	z.AddUser("1003", own, "inactive")
	z.Script("1003", fakeidp.Case{Status: 503, Body: fakeidp.ZitadelError(14, "Errors.Internal", "QUERY-Dh42f")})
	undo, _, err := b.store.CreateUndoRun(b.ctx, "orig")
	if err != nil {
		t.Fatal(err)
	}
	u := b.waitFinished(undo.ID, time.Minute)
	want := map[int]struct {
		o        jobs.Outcome
		reason   string
		attempts int
	}{2: {jobs.Deactivated, "", 1}, 3: {jobs.NotActive, "COMMAND-5gunjw0cd7", 1}, 4: {jobs.Deactivated, jobs.ReasonAssumedOnRetry, 2}}
	for line, w := range want {
		if got := b.outcome(undo.ID, line); got.Outcome != w.o || got.Reason != w.reason || got.Attempts != w.attempts {
			t.Errorf("undo line %d = %s / %q after %d attempts, want %s / %q after %d", line, got.Outcome, got.Reason, got.Attempts, w.o, w.reason, w.attempts)
		}
	}
	if u.Failures() != 0 {
		t.Errorf("undo run failures = %d (counts %v), want 0", u.Failures(), u.Counts)
	}
	for _, id := range []string{"1001", "1002", "1003"} {
		if st := z.State(id); st != "inactive" {
			t.Errorf("user %s is %s after the undo, want inactive", id, st)
		}
	}
}
