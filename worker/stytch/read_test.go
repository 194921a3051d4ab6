// This file tests ReadAccount over real HTTP: every read answer of fakeidp.Cases scripted, and
// reads from the fake Stytch's state before and after a reactivate.

package stytch_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func TestReadAccountCases(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tc := range fakeidp.Cases {
		if tc.Provider != jobs.Stytch || tc.Op != fakeidp.OpRead {
			continue
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(tc))
			c := newClient(t, f.srv.URL, nil)
			got, err := c.ReadAccount(t.Context(), row(testOrg, testMember))
			switch tc.Want {
			case "":
				if err != nil {
					t.Fatalf("ReadAccount(%s) = %v, want an account", tc.Name, err)
				}
				want := tc.WantAccount
				want.RequestID = fakeidp.StytchRequestID
				if want.State == jobs.StateNotFound {
					want.ID = testMember
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
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("ReadAccount(%s) error %q holds the secret", tc.Name, err)
			}
			req := f.last(t)
			if want := "/v1/b2b/organizations/members/dangerously_get/" + testMember + "?include_deleted=true"; req.method != "GET" || req.requestURI != want || !req.basicOK || req.pass != testSecret {
				t.Errorf("ReadAccount(%s) sent %s %s (basic auth %v), want GET %s with the project's credentials", tc.Name, req.method, req.requestURI, req.basicOK, want)
			}
		})
	}
	if n < 10 {
		t.Fatalf("fakeidp.Cases has %d Stytch read cases, want the full table", n)
	}
}

func TestReadAccountRefusesBadRows(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(fakeidp.Case{Status: 200}))
	c := newClient(t, f.srv.URL, nil)
	for name, r := range map[string]jobs.Row{
		"zitadel row":     {Line: 2, Provider: jobs.Zitadel, UserID: "1"},
		"slash in member": row(testOrg, "member-test-a/b"),
		"live member":     row(testOrg, liveMember),
	} {
		if a, err := c.ReadAccount(t.Context(), r); err == nil {
			t.Errorf("ReadAccount(%s) = %+v, want an error", name, a)
		}
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

// TestReadAccountAgainstTheFake reads members of every status from the fake Stytch and checks
// that a reactivate moves updated_at.
func TestReadAccountAgainstTheFake(t *testing.T) {
	t.Parallel()
	s := fakeidp.NewStytch(testProject, testSecret)
	statuses := map[string]jobs.AccountState{
		fakeidp.StytchActive: jobs.StateActive, fakeidp.StytchDeleted: jobs.StateDeactivated,
		fakeidp.StytchInvited: jobs.StateInvited, fakeidp.StytchPending: jobs.StatePending,
	}
	for st := range statuses {
		s.AddMember(testOrg, "member-test-"+st, st, true)
	}
	base, stop := fakeidp.Serve(s)
	defer stop()
	c := newClient(t, base, nil)
	for st, want := range statuses {
		a, err := c.ReadAccount(t.Context(), row(testOrg, "member-test-"+st))
		if err != nil || a.State != want || a.OrgID != testOrg || a.ID != "member-test-"+st || !a.ChangedAt.Equal(s.UpdatedAt("member-test-"+st)) || a.RequestID == "" {
			t.Errorf("ReadAccount(%s member) = %+v, %v, want state %s of %s with its updated_at", st, a, err, want, testOrg)
		}
	}
	if a, err := c.ReadAccount(t.Context(), row(testOrg, "member-test-nobody")); err != nil || a.State != jobs.StateNotFound {
		t.Errorf("ReadAccount(unknown member) = %+v, %v, want not_found", a, err)
	}
	time.Sleep(1100 * time.Millisecond) // updated_at has whole seconds
	id := "member-test-" + fakeidp.StytchDeleted
	before := s.UpdatedAt(id)
	if res := c.Reactivate(t.Context(), row(testOrg, id)); res.Class != jobs.ClassReactivated {
		t.Fatalf("Reactivate = %+v, want reactivated", res)
	}
	a, err := c.ReadAccount(t.Context(), row(testOrg, id))
	if err != nil || a.State != jobs.StateActive || !a.ChangedAt.After(before) {
		t.Errorf("after reactivate: ReadAccount = %+v, %v, want active, changed after %v", a, err, before)
	}
	s.SetSecret("secret-test-rotated")
	if _, err := c.ReadAccount(t.Context(), row(testOrg, id)); !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("ReadAccount with a revoked secret = %v, want an error wrapping ErrFatal", err)
	}
}
