// This file tests Deactivate (for undo) over real HTTP: every deactivate answer of
// fakeidp.Cases scripted, and deactivates against the fake ZITADEL's state.

package zitadel

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func TestDeactivateCases(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tc := range fakeidp.Cases {
		if tc.Provider != jobs.Zitadel || tc.Op != fakeidp.OpDeactivate {
			continue
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var calls []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if body, ok := fakeidp.ZitadelProbeAnswer(tc.Perms, r.URL.Path, r.Header.Get("X-Zitadel-Orgid")); ok {
					answerCase(w, fakeidp.Case{Status: 200, Body: body})
					return
				}
				mu.Lock()
				calls = append(calls, r.Method+" "+r.URL.Path)
				mu.Unlock()
				answerCase(w, tc)
			}))
			defer srv.Close()
			c := newPATClient(t, srv, func(c *Config) { c.API = tc.API })
			got := c.Deactivate(t.Context(), jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID})
			if got.Class != tc.Want || got.ErrorType != tc.WantType || got.HTTPStatus != tc.Status || !got.Called {
				t.Errorf("Deactivate(%s) = %q type %q status %d called %v (%s), want %q type %q status %d called", tc.Name,
					got.Class, got.ErrorType, got.HTTPStatus, got.Called, got.Message, tc.Want, tc.WantType, tc.Status)
			}
			if wantReason := map[bool]string{true: jobs.ReasonNoPermissionInOrg}[tc.Want == jobs.ClassRejected && tc.Perms != ""]; got.Reason != wantReason {
				t.Errorf("Deactivate(%s) reason = %q, want %q", tc.Name, got.Reason, wantReason)
			}
			if got.Class == jobs.ClassRejected && tc.WantType != "" && strings.Contains(tc.WantType, "COMMAND") && !strings.Contains(got.Message, "deleted") {
				t.Errorf("Deactivate(%s) message = %q, want it to say an initial user can only be deleted", tc.Name, got.Message)
			}
			want := "POST /v2/users/" + userID + "/deactivate"
			if tc.API == APIv1 {
				want = "POST /management/v1/users/" + userID + "/_deactivate"
			}
			mu.Lock()
			defer mu.Unlock()
			if len(calls) != 1 || calls[0] != want {
				t.Errorf("Deactivate(%s) sent %q, want one %s", tc.Name, calls, want)
			}
		})
	}
	if n < 15 {
		t.Fatalf("fakeidp.Cases has %d ZITADEL deactivate cases, want the real transcripts' all", n)
	}
}

// TestDeactivateAgainstTheFake deactivates users of every state on the fake ZITADEL, on both
// APIs, and reads them back: a locked user becomes inactive, and reactivating it leaves it
// active (the lock is lost, as on the real server).
func TestDeactivateAgainstTheFake(t *testing.T) {
	t.Parallel()
	const org = "401899638682091521"
	for _, api := range []string{APIv1, APIv2} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			z := fakeidp.NewZitadel("127.0.0.1")
			z.AddToken(testPAT, org)
			for _, st := range []string{fakeidp.ZitadelActive, fakeidp.ZitadelInactive, fakeidp.ZitadelLocked, fakeidp.ZitadelInitial, fakeidp.ZitadelDeleted} {
				z.AddUser("u-"+st, org, st)
			}
			base, stop := fakeidp.Serve(z)
			defer stop()
			c, err := New(t.Context(), Config{BaseURL: base, Token: testPAT, API: api})
			if err != nil {
				t.Fatal(err)
			}
			row := func(id string) jobs.Row { return jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: id} }
			for st, want := range map[string]jobs.Class{
				fakeidp.ZitadelActive: jobs.ClassDeactivated, fakeidp.ZitadelLocked: jobs.ClassDeactivated,
				fakeidp.ZitadelInactive: jobs.ClassNotActive, fakeidp.ZitadelInitial: jobs.ClassRejected, fakeidp.ZitadelDeleted: jobs.ClassNotFound,
			} {
				if got := c.Deactivate(t.Context(), row("u-"+st)); got.Class != want {
					t.Errorf("Deactivate(%s user) = %q (%s), want %q", st, got.Class, got.Message, want)
				}
			}
			if a, err := c.ReadAccount(t.Context(), row("u-"+fakeidp.ZitadelLocked)); err != nil || a.State != jobs.StateDeactivated {
				t.Errorf("read of the locked user after deactivate = %+v, %v, want deactivated", a, err)
			}
			if res := c.Reactivate(t.Context(), row("u-"+fakeidp.ZitadelLocked)); res.Class != jobs.ClassReactivated {
				t.Errorf("Reactivate(deactivated locked user) = %+v, want reactivated", res)
			}
			if a, err := c.ReadAccount(t.Context(), row("u-"+fakeidp.ZitadelLocked)); err != nil || a.State != jobs.StateActive {
				t.Errorf("read after reactivate = %+v, %v, want active: the lock is lost", a, err)
			}
		})
	}
}
