// This file tests Deactivate (delete member, for undo) over real HTTP: every delete answer of
// fakeidp.Cases scripted, and deletes against the fake Stytch's state.

package stytch_test

import (
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func TestDeactivateCases(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tc := range fakeidp.Cases {
		if tc.Provider != jobs.Stytch || tc.Op != fakeidp.OpDeactivate {
			continue
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(tc))
			c := newClient(t, f.srv.URL, nil)
			got := c.Deactivate(t.Context(), row(testOrg, testMember))
			if got.Class != tc.Want || got.ErrorType != tc.WantType || got.HTTPStatus != tc.Status || !got.Called || got.RequestID != fakeidp.StytchRequestID {
				t.Errorf("Deactivate(%s) = %+v, want class %q type %q status %d, called, request id", tc.Name, got, tc.Want, tc.WantType, tc.Status)
			}
			if deleted := c.DeletedAnswer(got); deleted != (tc.WantType == "member_not_found") {
				t.Errorf("DeletedAnswer(%s) = %v, want true only for member_not_found", tc.Name, deleted)
			}
			req := f.last(t)
			if want := "/v1/b2b/organizations/" + testOrg + "/members/" + testMember; req.method != "DELETE" || req.escapedPath != want || req.pass != testSecret {
				t.Errorf("Deactivate(%s) sent %s %s, want DELETE %s with the project's credentials", tc.Name, req.method, req.escapedPath, want)
			}
		})
	}
	if n < 5 {
		t.Fatalf("fakeidp.Cases has %d Stytch delete cases", n)
	}
}

func TestDeactivateAgainstTheFake(t *testing.T) {
	t.Parallel()
	s := fakeidp.NewStytch(testProject, testSecret)
	for _, st := range []string{fakeidp.StytchActive, fakeidp.StytchDeleted, fakeidp.StytchInvited} {
		s.AddMember(testOrg, "member-test-"+st, st, true)
	}
	base, stop := fakeidp.Serve(s)
	defer stop()
	c := newClient(t, base, nil)
	for st, want := range map[string]jobs.Class{
		fakeidp.StytchActive: jobs.ClassDeactivated, fakeidp.StytchInvited: jobs.ClassDeactivated,
		fakeidp.StytchDeleted: jobs.ClassNotFound, "nobody": jobs.ClassNotFound,
	} {
		if got := c.Deactivate(t.Context(), row(testOrg, "member-test-"+st)); got.Class != want {
			t.Errorf("Deactivate(%s member) = %+v, want %q", st, got, want)
		}
	}
	if got := s.Status(testOrg, "member-test-"+fakeidp.StytchActive); got != fakeidp.StytchDeleted {
		t.Errorf("status after delete = %q, want deleted", got)
	}
	if res := c.Reactivate(t.Context(), row(testOrg, "member-test-"+fakeidp.StytchActive)); res.Class != jobs.ClassReactivated {
		t.Errorf("Reactivate after delete = %+v, want reactivated (a soft delete)", res)
	}
	if got := c.Deactivate(t.Context(), row(testOrg, liveMember)); got.Called || got.Class != jobs.ClassRejected {
		t.Errorf("Deactivate(live member on a test project) = %+v, want rejected before any call", got)
	}
}
