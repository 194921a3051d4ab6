package discover_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"reactivator/internal/discover"
	"reactivator/internal/fakeidp"
	"reactivator/worker/stytch"
)

const (
	sOrgA = "organization-test-aaaaaaaa-0000-4000-8000-000000000001"
	sOrgB = "organization-test-aaaaaaaa-0000-4000-8000-000000000002"
)

type sworld struct {
	fake   *fakeidp.Stytch
	client *stytch.Client
}

// ssetup serves a fake Stytch with orgs acme (sOrgA) and beta (sOrgB): deleted members m1..m5 in
// acme (m5 at other.test), m6 in beta, active a1 in acme.
func ssetup(t *testing.T) sworld {
	t.Helper()
	s := fakeidp.NewStytch("project-test-11111111-1111-4111-8111-111111111111", "secret-test-x")
	s.AddOrg(sOrgA, "acme")
	s.AddOrg(sOrgB, "beta")
	for _, m := range []string{"m1", "m2", "m3", "m4", "m5"} {
		s.AddMember(sOrgA, "member-test-"+m, fakeidp.StytchDeleted, true)
	}
	s.SetMemberEmail("member-test-m5", "m5@Other.test")
	s.AddMember(sOrgB, "member-test-m6", fakeidp.StytchDeleted, true)
	s.AddMember(sOrgA, "member-test-a1", fakeidp.StytchActive, true)
	base, stop := fakeidp.Serve(s)
	t.Cleanup(stop)
	c, err := stytch.New(stytch.Config{ProjectID: "project-test-11111111-1111-4111-8111-111111111111", Secret: "secret-test-x", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	return sworld{fake: s, client: c}
}

func TestStytchFilters(t *testing.T) {
	t.Parallel()
	w := ssetup(t)
	for _, tc := range []struct {
		name  string
		q     discover.StytchQuery
		want  []string
		calls int
	}{
		{"slug, paged", discover.StytchQuery{Orgs: []string{"acme"}, PageSize: 2},
			[]string{sOrgA + "/member-test-m1", sOrgA + "/member-test-m2", sOrgA + "/member-test-m3", sOrgA + "/member-test-m4", sOrgA + "/member-test-m5"}, 1 + 3},
		{"id and slug", discover.StytchQuery{Orgs: []string{sOrgB, "acme"}, EmailDomain: "other.test"}, []string{sOrgA + "/member-test-m5"}, 2 + 1},
		{"one org by id", discover.StytchQuery{Orgs: []string{sOrgB}}, []string{sOrgB + "/member-test-m6"}, 2},
		{"empty", discover.StytchQuery{Orgs: []string{"beta"}, EmailDomain: "nobody.test"}, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limiter = rate.NewLimiter(rate.Inf, 1)
			res, err := discover.Stytch(t.Context(), w.client, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res); !slices.Equal(got, tc.want) {
				t.Errorf("Stytch(%s) = %v, want %v", tc.name, got, tc.want)
			}
			if res.Calls != tc.calls {
				t.Errorf("Stytch(%s) calls = %d, want %d", tc.name, res.Calls, tc.calls)
			}
		})
	}
}

func TestStytchUnknownSlugSearchesNothing(t *testing.T) {
	t.Parallel()
	w := ssetup(t)
	_, err := discover.Stytch(t.Context(), w.client, discover.StytchQuery{Orgs: []string{"acme", "nope"}})
	if !errors.Is(err, discover.ErrUnknownOrg) {
		t.Fatalf("Stytch = %v, want ErrUnknownOrg", err)
	}
	for _, p := range w.fake.LastPaths() {
		if p == "/v1/b2b/organizations/members/search" {
			t.Errorf("a search was made before every org was resolved: %v", w.fake.LastPaths())
		}
	}
}

// TestStytchSearchesWaitForTheLimiter gives a limiter of two searches and no refill: the third
// page's search must not be sent (the limiter refuses at once: its wait would outlast ctx).
func TestStytchSearchesWaitForTheLimiter(t *testing.T) {
	t.Parallel()
	w := ssetup(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	_, err := discover.Stytch(ctx, w.client, discover.StytchQuery{Orgs: []string{"acme"}, PageSize: 2, Limiter: rate.NewLimiter(0, 2)})
	if err == nil {
		t.Fatal("Stytch with a spent limiter = nil error, want the limiter's")
	}
	n := 0
	for _, p := range w.fake.LastPaths() {
		if p == "/v1/b2b/organizations/members/search" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("searches sent = %d, want 2", n)
	}
}

// orgAnswer is a Caller that answers every call with one Stytch error, as an organization read
// of a reference naming nothing does.
type orgAnswer struct{ errorType string }

func (a orgAnswer) Call(context.Context, string, string, []byte) (int, []byte, error) {
	return http.StatusNotFound, []byte(`{"status_code":404,"request_id":"request-id-test-1","error_type":"` + a.errorType +
		`","error_message":"x","error_url":"https://stytch.com/docs/api/errors/404"}`), nil
}

// TestStytchEveryNoSuchOrgTypeIsAnUnknownOrg: each error type the worker counts as "no such
// organization" makes find's --org unknown too (exit 2), not a failed call (exit 1).
func TestStytchEveryNoSuchOrgTypeIsAnUnknownOrg(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"organization_not_found", "invalid_organization_slug", "invalid_organization_external_id"} {
		_, err := discover.Stytch(t.Context(), orgAnswer{typ}, discover.StytchQuery{Orgs: []string{"nope"}, Limiter: rate.NewLimiter(rate.Inf, 1)})
		if !errors.Is(err, discover.ErrUnknownOrg) {
			t.Errorf("Stytch with %s = %v, want ErrUnknownOrg", typ, err)
		}
	}
	if _, err := discover.Stytch(t.Context(), orgAnswer{"invalid_organization_id"}, discover.StytchQuery{Orgs: []string{"nope"}, Limiter: rate.NewLimiter(rate.Inf, 1)}); errors.Is(err, discover.ErrUnknownOrg) {
		t.Errorf("Stytch with invalid_organization_id = %v, want another error (a malformed id, not a missing org)", err)
	}
}
