// This file tests ReadAccount over real HTTP: every read answer of fakeidp.Cases scripted, and
// reads from the fake ZITADEL's state before and after a reactivate.

package zitadel

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func TestReadAccountCases(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tc := range fakeidp.Cases {
		if tc.Provider != jobs.Zitadel || tc.Op != fakeidp.OpRead {
			continue
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var paths []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.Method+" "+r.URL.EscapedPath()+" org="+r.Header.Get("X-Zitadel-Orgid"))
				mu.Unlock()
				if tc.API == APIv1 && strings.HasPrefix(r.URL.Path, "/v2/") {
					// A server without the v2 API.
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusNotFound)
					_, _ = io.WriteString(w, `{"code":5,"message":"Not Found"}`)
					return
				}
				answerCase(w, tc)
			}))
			defer srv.Close()
			c := newPATClient(t, srv, func(c *Config) { c.API, c.DefaultOrgID = tc.API, "111" })
			row := jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID}
			got, err := c.ReadAccount(t.Context(), row)
			switch tc.Want {
			case "":
				if err != nil {
					t.Fatalf("ReadAccount(%s) = %v, want an account", tc.Name, err)
				}
				want := tc.WantAccount
				want.RequestID = fakeidp.ZitadelRequestID
				if want.State == jobs.StateNotFound {
					want.ID = userID
				}
				if got != want {
					t.Errorf("ReadAccount(%s) = %+v, want %+v", tc.Name, got, want)
				}
			case jobs.ClassFatal:
				if !errors.Is(err, jobs.ErrFatal) {
					t.Errorf("ReadAccount(%s) = %+v, %v, want an error wrapping ErrFatal", tc.Name, got, err)
				}
			default:
				if err == nil || errors.Is(err, jobs.ErrFatal) {
					t.Errorf("ReadAccount(%s) = %+v, %v, want a plain error", tc.Name, got, err)
				}
			}
			if err != nil {
				assertNoSecret(t, "ReadAccount error", err.Error(), testPAT)
			}
			wantPaths := []string{"GET /v2/users/" + userID + " org="}
			if tc.API == APIv1 {
				wantPaths = append(wantPaths, "GET /management/v1/users/"+userID+" org=111")
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(paths, "\n") != strings.Join(wantPaths, "\n") {
				t.Errorf("ReadAccount(%s) sent %q, want %q", tc.Name, paths, wantPaths)
			}
		})
	}
	if n < 20 {
		t.Fatalf("fakeidp.Cases has %d ZITADEL read cases, want the full table", n)
	}
}

// TestReadAccountV1RemembersTheRoute checks that a v1 client asks for the v2 read only once on a
// server without it, and reads in the row's organization.
func TestReadAccountV1RemembersTheRoute(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path+" org="+r.Header.Get("X-Zitadel-Orgid"))
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/v2/") {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		answerCase(w, fakeidp.Case{Status: 200, Body: `{"user":{"id":"1","state":"USER_STATE_ACTIVE"}}`})
	}))
	defer srv.Close()
	c := newPATClient(t, srv, func(c *Config) { c.API = APIv1 })
	for _, org := range []string{"222", "333"} {
		if a, err := c.ReadAccount(t.Context(), jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID, OrgID: org}); err != nil || a.State != jobs.StateActive {
			t.Fatalf("ReadAccount(org %s) = %+v, %v, want active", org, a, err)
		}
	}
	want := []string{"/v2/users/" + userID + " org=", "/management/v1/users/" + userID + " org=222", "/management/v1/users/" + userID + " org=333"}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests = %q, want %q", paths, want)
	}
}

// TestReadAccountAgainstTheFake reads users of every state from the fake ZITADEL, on both APIs,
// and checks that a reactivate moves the read's change time to the reactivation's, as on the
// real server.
func TestReadAccountAgainstTheFake(t *testing.T) {
	t.Parallel()
	const org = "401899638682091521"
	for _, api := range []string{APIv1, APIv2} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			z := fakeidp.NewZitadel("127.0.0.1")
			z.AddToken(testPAT, org)
			created := time.Date(2026, 11, 30, 14, 13, 57, 563765000, time.UTC)
			states := map[string]jobs.AccountState{
				fakeidp.ZitadelActive: jobs.StateActive, fakeidp.ZitadelInactive: jobs.StateDeactivated,
				fakeidp.ZitadelLocked: jobs.StateLocked, fakeidp.ZitadelInitial: jobs.StateInitial, fakeidp.ZitadelDeleted: jobs.StateNotFound,
			}
			i := 0
			for st := range states {
				i++
				z.AddZitadelUser(fakeidp.ZitadelUser{ID: "9000" + st, OrgID: org, State: st, Created: created, Changed: created.Add(time.Duration(i) * time.Second)})
			}
			base, stop := fakeidp.Serve(z)
			defer stop()
			c, err := New(t.Context(), Config{BaseURL: base, Token: testPAT, API: api})
			if err != nil {
				t.Fatal(err)
			}
			row := func(id string) jobs.Row { return jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: id} }
			for st, want := range states {
				a, err := c.ReadAccount(t.Context(), row("9000"+st))
				if err != nil || a.State != want {
					t.Errorf("ReadAccount(%s user) = %+v, %v, want state %s", st, a, err, want)
				}
				if want != jobs.StateNotFound {
					u, _ := z.User("9000" + st)
					if !a.ChangedAt.Equal(u.Changed) || a.OrgID != org || a.ID != "9000"+st || a.RequestID == "" {
						t.Errorf("ReadAccount(%s user) = %+v, want id, org %s, change time %v and a request id", st, a, org, u.Changed)
					}
				}
			}
			if a, err := c.ReadAccount(t.Context(), row("123456789012345678")); err != nil || a.State != jobs.StateNotFound {
				t.Errorf("ReadAccount(never existed) = %+v, %v, want not_found", a, err)
			}
			id := "9000" + fakeidp.ZitadelInactive
			before, _ := z.User(id)
			if res := c.Reactivate(t.Context(), row(id)); res.Class != jobs.ClassReactivated {
				t.Fatalf("Reactivate = %+v, want reactivated", res)
			}
			after, _ := z.User(id)
			a, err := c.ReadAccount(t.Context(), row(id))
			if err != nil || a.State != jobs.StateActive || !a.ChangedAt.Equal(after.Changed) || !after.Changed.After(before.Changed) || after.Sequence != before.Sequence+1 {
				t.Errorf("after reactivate: ReadAccount = %+v, %v; user %+v (before %+v): want active, sequence +1, change time moved to the reactivation's", a, err, after, before)
			}
		})
	}
}
