package worker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// TestUndoDeactivatesOnlyTheReactivatedRows works a Stytch run with mixed outcomes, then its undo
// run through the same worker: only the members the run reactivated are deleted again, each with
// one call, and no other member is called. One of them someone else deleted before the undo:
// not_active, not a failure.
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
	// Member 6 is deleted again by someone else before the undo: its delete finds it gone, and a
	// read shows it deleted: nothing to undo.
	b.stytch.AddMember(orgID, member(6), "deleted", true)

	undo, created, err := b.store.CreateUndoRun(b.ctx, "orig")
	if err != nil || !created || undo.Total != 3 {
		t.Fatalf("CreateUndoRun(orig) = %+v, created %v, %v; want 3 rows", undo, created, err)
	}
	u := b.waitFinished(undo.ID, time.Minute)
	if u.Counts[jobs.Deactivated] != 2 || u.Counts[jobs.NotActive] != 1 || u.Done != 3 || u.Failures() != 0 {
		t.Errorf("undo run counts = %v, failures %d; want deactivated 2, not_active 1, no failure", u.Counts, u.Failures())
	}
	for line, want := range map[int]jobs.Outcome{2: jobs.Deactivated, 5: jobs.Deactivated, 7: jobs.NotActive} {
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
	const own, pat = "400907376431008806", "pat-secret-token-value"
	z, url := zitadelFake(t, own, pat)
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

// TestUndoStytchDeleteThatWorkedBeforeItsAnswerWasLost undoes a Stytch run while half the deletes
// are applied, then their connection dropped: the retry of such a delete answers member_not_found,
// and a read of the member, deleted ones included, shows it deleted after the attempt began, so
// the row is deactivated, confirmed_on_retry, not not_found.
func TestUndoStytchDeleteThatWorkedBeforeItsAnswerWasLost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(20)
	b.ingestRun("orig", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.MaxAttempts = 30
	b.serve(b.windowServer(cfg))
	if r := b.waitFinished("orig", time.Minute); r.Counts[jobs.Reactivated] != 20 {
		t.Fatalf("run orig counts = %v, want 20 reactivated", r.Counts)
	}
	b.stytch.SetFaults(fakeidp.Faults{RateDrop: 0.5, Seed: 7})
	undo, _, err := b.store.CreateUndoRun(b.ctx, "orig")
	if err != nil {
		t.Fatal(err)
	}
	u := b.waitFinished(undo.ID, time.Minute)
	confirmed := 0
	for _, row := range rows {
		got := b.outcome(undo.ID, row.Line)
		switch {
		case got.Outcome != jobs.Deactivated:
			t.Errorf("undo line %d = %s / %s (%s) after %d attempts, want deactivated", row.Line, got.Outcome, got.Reason, got.Message, got.Attempts)
		case got.Attempts > 1 && (got.Reason != jobs.ReasonConfirmedOnRetry || !strings.Contains(got.Message, "a read shows it deleted at")):
			t.Errorf("undo line %d = %s / %s (%s) after %d attempts, want confirmed_on_retry by the read", row.Line, got.Outcome, got.Reason, got.Message, got.Attempts)
		case got.Attempts > 1:
			confirmed++
		}
		if st := b.stytch.Status(orgID, row.MemberID); st != fakeidp.StytchDeleted {
			t.Errorf("member of line %d is %s after the undo, want deleted", row.Line, st)
		}
	}
	if confirmed == 0 || u.Failures() != 0 {
		t.Errorf("undo: %d rows confirmed on retry, %d failures (counts %v); want some confirmed (half the deletes dropped after applying), no failures", confirmed, u.Failures(), u.Counts)
	}
}

// TestUndoStytchAssumedWhenTheReadDoesNotConfirm: after a 500 that may have deleted the member
// and a retry answering member_not_found, a read that fails or still shows the member active
// leaves the delete's answer standing: deactivated, assumed_on_retry, the message saying what the
// read gave (a member deleted behind the undo's back, with no such attempt:
// TestUndoStytchMemberDeletedBySomeoneElse).
func TestUndoStytchAssumedWhenTheReadDoesNotConfirm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(2)
	b.ingestRun("orig", rows)
	readErr := errors.New("read refused by the test")
	caller := b.readsFailOrActive(member(1), member(2), readErr) // member 2: a read that has not caught up
	b.serve(b.windowServer(b.config(map[jobs.Provider]Caller{jobs.Stytch: caller})))
	if r := b.waitFinished("orig", time.Minute); r.Counts[jobs.Reactivated] != 2 {
		t.Fatalf("run orig counts = %v, want 2 reactivated", r.Counts)
	}
	// Members 1 and 2: the first delete is applied (the member is deleted) but answered 500.
	internal := fakeidp.Case{Status: 500, Body: fakeidp.StytchError(500, "internal_server_error", "Oops")}
	for _, i := range []int{1, 2} {
		b.stytch.AddMember(orgID, member(i), fakeidp.StytchDeleted, true)
		b.stytch.Script(orgID, member(i), internal)
	}
	undo, _, err := b.store.CreateUndoRun(b.ctx, "orig")
	if err != nil {
		t.Fatal(err)
	}
	b.waitFinished(undo.ID, time.Minute)
	tests := []struct {
		line     int
		outcome  jobs.Outcome
		reason   string
		attempts int
		says     string
	}{
		{2, jobs.Deactivated, jobs.ReasonAssumedOnRetry, 2, "the account could not be read to confirm it (" + readErr.Error() + ")"},
		{3, jobs.Deactivated, jobs.ReasonAssumedOnRetry, 2, "a read still shows it active (active), most likely a read lagging behind the delete"},
	}
	for _, tt := range tests {
		got := b.outcome(undo.ID, tt.line)
		if got.Outcome != tt.outcome || got.Reason != tt.reason || got.Attempts != tt.attempts || !strings.Contains(got.Message, tt.says) {
			t.Errorf("undo line %d = %s / %s after %d attempts (%s), want %s / %s after %d saying %q", tt.line, got.Outcome, got.Reason, got.Attempts, got.Message, tt.outcome, tt.reason, tt.attempts, tt.says)
		}
	}
}

// TestUndoStytchMemberDeletedBySomeoneElse undoes a Stytch run whose members changed between the
// run and its undo, so that each first delete answers member_not_found, with no earlier attempt
// that may have deleted them. A read of the member, deleted ones included, decides: shown deleted
// (someone else deleted it) is not_active, nothing undone, the message saying when; no such
// member at all stays not_found; a read that fails or shows the member not deleted leaves
// not_found, the message saying what the read gave.
func TestUndoStytchMemberDeletedBySomeoneElse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(5)
	b.ingestRun("orig", rows)
	readErr := errors.New("read refused by the test")
	caller := b.readsFailOrActive(member(3), member(4), readErr) // member 4: reactivated again since the delete answered
	b.serve(b.windowServer(b.config(map[jobs.Provider]Caller{jobs.Stytch: caller})))
	if r := b.waitFinished("orig", time.Minute); r.Counts[jobs.Reactivated] != 5 {
		t.Fatalf("run orig counts = %v, want 5 reactivated", r.Counts)
	}
	// Members 1, 3 and 4 are deleted by someone else, member 2 is gone altogether; member 5 is
	// left for the undo.
	for _, i := range []int{1, 3, 4} {
		b.stytch.AddMember(orgID, member(i), fakeidp.StytchDeleted, true)
	}
	b.stytch.RemoveMember(member(2))
	deletedAt := b.stytch.UpdatedAt(member(1)).UTC().Format(time.RFC3339)
	undo, _, err := b.store.CreateUndoRun(b.ctx, "orig")
	if err != nil {
		t.Fatal(err)
	}
	u := b.waitFinished(undo.ID, time.Minute)
	tests := []struct {
		line    int
		outcome jobs.Outcome
		reason  string
		says    string
	}{
		{2, jobs.NotActive, "member_not_found", "the account was already deleted at " + deletedAt + ", before this undo's delete, which found it gone: not by this undo; nothing was undone"},
		{3, jobs.NotFound, "member_not_found", "; a read finds no such account, deleted or not"},
		{4, jobs.NotFound, "member_not_found", "failed (" + readErr.Error() + "): check it"},
		{5, jobs.NotFound, "member_not_found", "; a read shows it active (active), not deleted: check it"},
		{6, jobs.Deactivated, "", ""},
	}
	for _, tt := range tests {
		got := b.outcome(undo.ID, tt.line)
		if got.Outcome != tt.outcome || got.Reason != tt.reason || got.Attempts != 1 || !strings.Contains(got.Message, tt.says) {
			t.Errorf("undo line %d = %s / %s after %d attempts (%s), want %s / %s after 1 saying %q", tt.line, got.Outcome, got.Reason, got.Attempts, got.Message, tt.outcome, tt.reason, tt.says)
		}
	}
	if u.Counts[jobs.NotActive] != 1 || u.Failures() != 3 {
		t.Errorf("undo run counts = %v, failures %d; want not_active 1 (not a failure), 3 failures (not_found)", u.Counts, u.Failures())
	}
	for i, want := range map[int]string{1: fakeidp.StytchDeleted, 2: "", 5: fakeidp.StytchDeleted} {
		if st := b.stytch.Status(orgID, member(i)); st != want {
			t.Errorf("member %d is %q after the undo, want %q", i, st, want)
		}
	}
}

// TestSettleDeleted decides the reads a Stytch undo row can meet after a delete answered
// member_not_found: after an attempt that may have deleted the member, the ones the fake cannot
// give in a test's time included (a member deleted long before the attempt began), and without
// one (someone else deleted it, or it never existed).
func TestSettleDeleted(t *testing.T) {
	t.Parallel()
	began := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	att := jobs.Attempt{N: 2, MaybeApplied: true, AmbiguousSince: began}
	certain := jobs.Attempt{N: 2} // the earlier attempt's answer (a 429, say) changed nothing
	gone := jobs.OutcomeRecord{Outcome: jobs.NotFound, Reason: "member_not_found", Attempts: 2, Message: "Member could not be found."}
	deleted := func(at time.Time) jobs.Account {
		return jobs.Account{State: jobs.StateDeactivated, Raw: "deleted", ChangedAt: at}
	}
	tests := []struct {
		name    string
		att     jobs.Attempt
		acct    jobs.Account
		err     error
		outcome jobs.Outcome
		reason  string
		says    string
	}{
		{"deleted after the attempt began", att, deleted(began.Add(time.Second)), nil, jobs.Deactivated, jobs.ReasonConfirmedOnRetry, "a read shows it deleted at 2026-12-01T04:00:01Z"},
		{"deleted within the clock skew", att, deleted(began.Add(-time.Second)), nil, jobs.Deactivated, jobs.ReasonConfirmedOnRetry, "after that attempt began"},
		{"deleted long before", att, deleted(began.Add(-time.Hour)), nil, jobs.NotActive, "member_not_found", "already deleted at 2026-12-01T03:00:00Z, before the first attempt began at 2026-12-01T04:00:00Z: not by this undo; nothing was undone"},
		{"deleted, no change time", att, deleted(time.Time{}), nil, jobs.Deactivated, jobs.ReasonAssumedOnRetry, "gives no change time"},
		{"deleted, attempt start unknown", jobs.Attempt{N: 2, MaybeApplied: true}, deleted(began), nil, jobs.Deactivated, jobs.ReasonAssumedOnRetry, "was not recorded"},
		{"read failed", att, jobs.Account{}, errors.New("HTTP 503"), jobs.Deactivated, jobs.ReasonAssumedOnRetry, "could not be read to confirm it (HTTP 503)"},
		{"read lags", att, jobs.Account{State: jobs.StateActive, Raw: "active", ChangedAt: began.Add(-time.Hour)}, nil, jobs.Deactivated, jobs.ReasonAssumedOnRetry, "still shows it active"},
		{"no such member at all", att, jobs.Account{State: jobs.StateNotFound}, nil, jobs.NotFound, "member_not_found", "Member could not be found.; a read finds no such account, deleted or not"},
		{"no uncertain attempt, deleted by someone else", certain, deleted(began.Add(-time.Hour)), nil, jobs.NotActive, "member_not_found", "already deleted at 2026-12-01T03:00:00Z, before this undo's delete, which found it gone: not by this undo; nothing was undone"},
		{"no uncertain attempt, deleted while it ran", certain, deleted(began.Add(time.Second)), nil, jobs.NotActive, "member_not_found", "already deleted at 2026-12-01T04:00:01Z, before this undo's delete"},
		{"no uncertain attempt, deleted, no change time", certain, deleted(time.Time{}), nil, jobs.NotActive, "member_not_found", "already deleted (the read gives no time), before this undo's delete"},
		{"no uncertain attempt, no such member", certain, jobs.Account{State: jobs.StateNotFound}, nil, jobs.NotFound, "member_not_found", "Member could not be found.; a read finds no such account, deleted or not"},
		{"no uncertain attempt, read failed", certain, jobs.Account{}, errors.New("HTTP 503"), jobs.NotFound, "member_not_found", "Member could not be found.; the read that tells an account someone else deleted (nothing to undo) from one that does not exist failed (HTTP 503)"},
		{"no uncertain attempt, read shows it active", certain, jobs.Account{State: jobs.StateActive, Raw: "active"}, nil, jobs.NotFound, "member_not_found", "Member could not be found.; a read shows it active (active), not deleted"},
	}
	for _, tt := range tests {
		got := settleDeleted(tt.att, tt.acct, tt.err, gone)
		if got.Outcome != tt.outcome || got.Reason != tt.reason || !strings.Contains(got.Message, tt.says) || got.Attempts != 2 {
			t.Errorf("%s: %s / %s (%s) after %d attempts, want %s / %s saying %q after 2", tt.name, got.Outcome, got.Reason, got.Message, got.Attempts, tt.outcome, tt.reason, tt.says)
		}
	}
}

// readsFailOrActive is the bundle's Stytch client whose read of member failing answers err and
// whose read of member active shows it active; other reads go to the fake.
func (b *bundle) readsFailOrActive(failing, active string, err error) readsAs {
	return readsAs{Caller: b.client, read: func(ctx context.Context, r jobs.Row) (jobs.Account, error) {
		switch r.MemberID {
		case failing:
			return jobs.Account{}, err
		case active:
			a, rerr := b.client.ReadAccount(ctx, r)
			a.State, a.Raw = jobs.StateActive, fakeidp.StytchActive
			return a, rerr
		}
		return b.client.ReadAccount(ctx, r)
	}}
}
