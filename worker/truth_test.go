package worker

import (
	"context"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// TestNotDeactivatedSaysTheAccountsState: after "not deactivated" the worker reads the account
// and records its state; a 5xx that changed nothing on an account that was already active is
// already_active, not confirmed_on_retry; already_active rows are not failures.
func TestNotDeactivatedSaysTheAccountsState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	z := fakeidp.NewZitadel("127.0.0.1")
	url, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	const org, pat = "400907376431008806", "pat-truth-token-value"
	z.AddOrg(org)
	z.AddToken(pat, org)
	long := time.Now().Add(-time.Hour)
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "2001", OrgID: org, State: fakeidp.ZitadelActive, Changed: long})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "2002", OrgID: org, State: fakeidp.ZitadelLocked, Changed: long})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "2003", OrgID: org, State: fakeidp.ZitadelInitial, Changed: long})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "2004", OrgID: org, State: fakeidp.ZitadelActive, Changed: long})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "2005", OrgID: org, State: fakeidp.ZitadelInactive, Changed: long})
	// 2004: the first call meets a 503 that changed nothing; the retry answers "not deactivated".
	z.Script("2004", fakeidp.Case{Status: 503, Body: fakeidp.ZitadelError(14, "Errors.Internal", "QUERY-Dh42f")})
	c, err := zitadel.New(context.Background(), zitadel.Config{BaseURL: url, API: "v2", Token: pat, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rows := []jobs.Row{
		{Line: 2, Provider: jobs.Zitadel, UserID: "2001"},
		{Line: 3, Provider: jobs.Zitadel, UserID: "2002"},
		{Line: 4, Provider: jobs.Zitadel, UserID: "2003"},
		{Line: 5, Provider: jobs.Zitadel, UserID: "2004"},
		{Line: 6, Provider: jobs.Zitadel, UserID: "2005"},
	}
	b.queue("run-truth", rows)
	b.start(b.config(map[jobs.Provider]Caller{jobs.Zitadel: c}))
	r := b.waitFinished("run-truth", 30*time.Second)
	tests := []struct {
		line    int
		outcome jobs.Outcome
		reason  string
	}{
		{2, jobs.NotDeactivated, jobs.ReasonAlreadyActive},
		{3, jobs.NotDeactivated, jobs.ReasonLocked},
		{4, jobs.NotDeactivated, jobs.ReasonInitial},
		{5, jobs.NotDeactivated, jobs.ReasonAlreadyActive},
		{6, jobs.Reactivated, ""},
	}
	for _, tt := range tests {
		if got := b.outcome("run-truth", tt.line); got.Outcome != tt.outcome || got.Reason != tt.reason {
			t.Errorf("line %d = %s / %s (%s), want %s / %s", tt.line, got.Outcome, got.Reason, got.Message, tt.outcome, tt.reason)
		}
	}
	if r.AlreadyActive != 2 || r.Failures() != 2 {
		t.Errorf("run: already active %d, failures %d; want 2 already active, 2 failures (locked, initial)", r.AlreadyActive, r.Failures())
	}
}
