package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	const org, pat = "400907376431008806", "pat-truth-token-value"
	z, url := zitadelFake(t, org, pat)
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

// readsAs is a provider client whose account reads answer what read returns: its calls still go
// over HTTP to a fake, while its reads can fail or lose their change time as a real provider's
// may.
type readsAs struct {
	Caller
	read func(ctx context.Context, r jobs.Row) (jobs.Account, error)
}

func (c readsAs) ReadAccount(ctx context.Context, r jobs.Row) (jobs.Account, error) {
	return c.read(ctx, r)
}

func (c readsAs) Deactivate(ctx context.Context, r jobs.Row) jobs.Result {
	return c.Caller.(Deactivator).Deactivate(ctx, r)
}

func (c readsAs) DeletedAnswer(res jobs.Result) bool {
	d, ok := c.Caller.(Deleter)
	return ok && d.DeletedAnswer(res)
}

// TestNotDeactivatedUnconfirmedSaysWhatTheReadGave: a "not deactivated" answer whose read does
// not confirm it. After a 503 that may have reached ZITADEL the row is reactivated,
// assumed_on_retry (the write side's answer stands), otherwise not_deactivated, state_unknown;
// either way the message says what the read gave: it failed, it showed the account active
// without a change time, deactivated, or missing. Only a read that failed says so.
func TestNotDeactivatedUnconfirmedSaysWhatTheReadGave(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const org, pat = "400907376431008806", "pat-truth-token-value"
	z, url := zitadelFake(t, org, pat)
	unavailable := fakeidp.Case{Status: 503, Body: fakeidp.ZitadelError(14, "Errors.Internal", "QUERY-Dh42f")}
	notInactive := fakeidp.Case{Status: 400, Header: map[string]string{"X-Request-Id": fakeidp.ZitadelRequestID},
		Body: fakeidp.ZitadelError(9, "User is not inactive", "COMMAND-s5qqcz97hf")}
	// The write side says "not deactivated" while the reads, from state, have not caught up:
	// 3001 and 3006 still read inactive, 3002 and 3007 do not exist.
	z.AddUser("3001", org, fakeidp.ZitadelInactive)
	z.Script("3001", unavailable, notInactive)
	z.Script("3002", unavailable, notInactive)
	for _, id := range []string{"3003", "3004", "3005"} {
		z.AddUser(id, org, fakeidp.ZitadelActive)
	}
	z.Script("3003", unavailable)
	z.Script("3004", unavailable)
	z.AddUser("3006", org, fakeidp.ZitadelInactive)
	z.Script("3006", notInactive)
	z.Script("3007", notInactive)
	c, err := zitadel.New(context.Background(), zitadel.Config{BaseURL: url, API: "v2", Token: pat, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	readErr := errors.New("read refused by the test")
	caller := readsAs{Caller: c, read: func(ctx context.Context, r jobs.Row) (jobs.Account, error) {
		switch r.UserID {
		case "3004", "3005":
			return jobs.Account{}, readErr
		}
		a, err := c.ReadAccount(ctx, r)
		if r.UserID == "3003" {
			a.ChangedAt = time.Time{}
		}
		return a, err
	}}
	var rows []jobs.Row
	for i := range 7 {
		rows = append(rows, jobs.Row{Line: i + 2, Provider: jobs.Zitadel, UserID: fmt.Sprint(3001 + i)})
	}
	b.queue("run-unconfirmed", rows)
	b.start(b.config(map[jobs.Provider]Caller{jobs.Zitadel: caller}))
	b.waitFinished("run-unconfirmed", 30*time.Second)
	const unread = "could not be read"
	tests := []struct {
		line    int
		outcome jobs.Outcome
		reason  string
		says    string
	}{
		{2, jobs.Reactivated, jobs.ReasonAssumedOnRetry, "still shows the account deactivated (USER_STATE_INACTIVE), most likely a read lagging behind"},
		{3, jobs.Reactivated, jobs.ReasonAssumedOnRetry, "a read finds no such account, most likely a read lagging behind"},
		{4, jobs.Reactivated, jobs.ReasonAssumedOnRetry, "a read shows the account active but gives no change time"},
		{5, jobs.Reactivated, jobs.ReasonAssumedOnRetry, unread + " to confirm it (" + readErr.Error() + ")"},
		{6, jobs.NotDeactivated, jobs.ReasonStateUnknown, unread + " to confirm it (" + readErr.Error() + ")"},
		{7, jobs.NotDeactivated, jobs.ReasonStateUnknown, "still shows the account deactivated (USER_STATE_INACTIVE)"},
		{8, jobs.NotDeactivated, jobs.ReasonStateUnknown, "a read finds no such account"},
	}
	for _, tt := range tests {
		got := b.outcome("run-unconfirmed", tt.line)
		if got.Outcome != tt.outcome || got.Reason != tt.reason || !strings.Contains(got.Message, tt.says) {
			t.Errorf("line %d = %s / %s (%s), want %s / %s saying %q", tt.line, got.Outcome, got.Reason, got.Message, tt.outcome, tt.reason, tt.says)
		}
		if tt.says[:len(unread)] != unread && strings.Contains(got.Message, unread) {
			t.Errorf("line %d: the account was read, but the message says %q", tt.line, got.Message)
		}
	}
}

// zitadelFake serves a fake ZITADEL (on 127.0.0.1, stopped with the test) with organisation org
// and a personal access token pat of it, and returns it with its URL.
func zitadelFake(t *testing.T, org, pat string) (*fakeidp.Zitadel, string) {
	t.Helper()
	z := fakeidp.NewZitadel("127.0.0.1")
	url, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	z.AddOrg(org)
	z.AddToken(pat, org)
	return z, url
}
