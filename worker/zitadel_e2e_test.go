package worker

import (
	"context"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

func TestZitadelOutcomesEndToEnd(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"v2", "v1"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			z := fakeidp.NewZitadel("127.0.0.1")
			url, stop := fakeidp.Serve(z)
			t.Cleanup(stop)
			const own, other, pat = "400907376431008806", "500907376431008806", "pat-secret-token-value"
			z.AddOrg(own)
			z.AddOrg(other)
			z.AddToken(pat, own)
			z.AddUser("1001", own, "inactive")
			z.AddUser("1002", own, "active")
			z.AddUser("1003", own, "initial")
			z.AddUser("1005", other, "inactive")
			z.AddUser("1006", own, "inactive")
			z.AddUser("1007", own, "inactive")
			z.Script("1006", fakeidp.Case{Status: 503, Header: map[string]string{"X-Request-Id": "r1"}, Body: fakeidp.ZitadelError(14, "Errors.Internal", "QUERY-Dh42f")})
			c, err := zitadel.New(context.Background(), zitadel.Config{BaseURL: url, API: api, Token: pat, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			rows := []jobs.Row{
				{Line: 2, Provider: jobs.Zitadel, UserID: "1001"},
				{Line: 3, Provider: jobs.Zitadel, UserID: "1002"},
				{Line: 4, Provider: jobs.Zitadel, UserID: "1003"},
				{Line: 5, Provider: jobs.Zitadel, UserID: "1004"},
				// A user of another organisation, named by the row's own org_id (v1 sends x-zitadel-orgid).
				{Line: 6, Provider: jobs.Zitadel, UserID: "1005", OrgID: other},
				// An org id that does not exist: v1 answers 403 AUTH-Bs7Ds, which is this row's problem only.
				{Line: 7, Provider: jobs.Zitadel, UserID: "1007", OrgID: "999"},
				{Line: 8, Provider: jobs.Zitadel, UserID: "1006"},
			}
			b.queue("run-z", rows)
			b.start(b.config(map[jobs.Provider]Caller{jobs.Zitadel: c}))
			b.waitFinished("run-z", 30*time.Second)
			want := map[int]jobs.Outcome{2: jobs.Reactivated, 3: jobs.NotDeactivated, 4: jobs.NotDeactivated, 5: jobs.NotFound,
				6: jobs.Reactivated, 8: jobs.Reactivated}
			if api == "v1" {
				want[7] = jobs.NotFound
			} else {
				// v2 sends no org header: the org id plays no part.
				want[7] = jobs.Reactivated
			}
			for line, w := range want {
				if got := b.outcome("run-z", line); got.Outcome != w {
					t.Errorf("%s line %d = %s (%s %s), want %s", api, line, got.Outcome, got.Reason, got.Message, w)
				}
			}
			if got := b.outcome("run-z", 2); got.RequestID == "" || got.HTTPStatus != 200 {
				t.Errorf("line 2 = request id %q status %d, want X-Request-Id recorded and 200", got.RequestID, got.HTTPStatus)
			}
			if z.State("1005") != "active" {
				t.Errorf("user 1005 of the other org = %s, want active", z.State("1005"))
			}
			if p, _ := b.store.Paused(b.ctx); len(p) != 0 {
				t.Errorf("paused providers = %v, want none (no fatal answer)", p)
			}
		})
	}
}
