// This file tests the fake Stytch's own behaviour: search, credentials, slugs, routing.

package fakeidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestStytchSearch(t *testing.T) {
	t.Parallel()
	s := NewStytch(tProject, tSecret)
	s.AddOrg(tOrg, "acme")
	s.AddOrg("organization-test-2", "beta")
	url := serve(t, s) + "/v1/b2b/organizations/search"
	type result struct {
		RequestID     string `json:"request_id"`
		Organizations []struct {
			OrganizationID   string `json:"organization_id"`
			OrganizationSlug string `json:"organization_slug"`
		} `json:"organizations"`
		ResultsMetadata struct {
			Total      int     `json:"total"`
			NextCursor *string `json:"next_cursor"`
		} `json:"results_metadata"`
		StatusCode int `json:"status_code"`
	}
	tests := []struct {
		name, body string
		wantIDs    []string
		wantNext   string
	}{
		{name: "limit_1", body: `{"limit":1}`, wantIDs: []string{tOrg}, wantNext: "1"},
		{name: "next_page", body: `{"limit":1,"cursor":"1"}`, wantIDs: []string{"organization-test-2"}},
		{name: "no_body", body: "", wantIDs: []string{tOrg, "organization-test-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := call(t, plain, http.MethodPost, url, map[string]string{"Authorization": basic(tProject, tSecret)}, tt.body)
			if a.status != http.StatusOK {
				t.Fatalf("search(%s) = %d %s, want 200", tt.body, a.status, a.body)
			}
			var r result
			if err := json.Unmarshal([]byte(a.body), &r); err != nil {
				t.Fatalf("search(%s) body %s: %v", tt.body, a.body, err)
			}
			var ids []string
			for _, o := range r.Organizations {
				ids = append(ids, o.OrganizationID)
			}
			next := ""
			if r.ResultsMetadata.NextCursor != nil {
				next = *r.ResultsMetadata.NextCursor
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) || next != tt.wantNext || r.ResultsMetadata.Total != 2 ||
				r.StatusCode != 200 || !stytchRequestIDForm.MatchString(r.RequestID) {
				t.Errorf("search(%s) = %s, want organizations %v, total 2, next_cursor %q", tt.body, a.body, tt.wantIDs, tt.wantNext)
			}
		})
	}
	a := call(t, plain, http.MethodPost, url, map[string]string{"Authorization": basic(tProject, "wrong")}, `{"limit":1}`)
	if normaliseStytch(a.body) != normaliseStytch(caseNamed(t, "stytch/unauthorized_credentials").Body) || a.status != 401 {
		t.Errorf("search with a wrong secret = %d %s, want 401 unauthorized_credentials", a.status, a.body)
	}
	if got := s.TotalCalls(); got != 0 {
		t.Errorf("TotalCalls() after searches = %d, want 0 (only reactivate calls count)", got)
	}
}

func TestStytchSetSecret(t *testing.T) {
	t.Parallel()
	s := NewStytch(tProject, tSecret)
	s.AddMember(tOrg, tMember, StytchDeleted, true)
	url := serve(t, s) + "/v1/b2b/organizations/" + tOrg + "/members/" + tMember + "/reactivate"
	s.SetSecret("rotated")
	if a := call(t, plain, http.MethodPut, url, map[string]string{"Authorization": basic(tProject, tSecret)}, ""); a.status != http.StatusUnauthorized {
		t.Errorf("reactivate with the old secret = %d %s, want 401", a.status, a.body)
	}
	if got := s.Status(tOrg, tMember); got != StytchDeleted {
		t.Errorf("Status after a refused call = %q, want deleted", got)
	}
	if got := s.Calls(tOrg + "/" + tMember); got != 0 {
		t.Errorf("Calls after a refused call = %d, want 0", got)
	}
	if a := call(t, plain, http.MethodPut, url, map[string]string{"Authorization": basic(tProject, "rotated")}, ""); a.status != http.StatusOK {
		t.Errorf("reactivate with the new secret and no body = %d %s, want 200", a.status, a.body)
	}
}

func TestStytchUnknownPathsAreNotStytchErrors(t *testing.T) {
	t.Parallel()
	s := NewStytch(tProject, tSecret)
	s.AddMember(tOrg, tMember, StytchDeleted, true)
	base := serve(t, s)
	auth := map[string]string{"Authorization": basic(tProject, tSecret)}
	tests := []struct{ name, method, path string }{
		{name: "wrong_base_path", method: http.MethodPut, path: "/api/v1/b2b/organizations/" + tOrg + "/members/" + tMember + "/reactivate"},
		{name: "wrong_method", method: http.MethodPost, path: "/v1/b2b/organizations/" + tOrg + "/members/" + tMember + "/reactivate"},
		{name: "missing_member", method: http.MethodPut, path: "/v1/b2b/organizations/" + tOrg + "/members//reactivate"},
		{name: "extra_segment", method: http.MethodPut, path: "/v1/b2b/organizations/" + tOrg + "/members/" + tMember + "/reactivate/x"},
		{name: "search_get", method: http.MethodGet, path: "/v1/b2b/organizations/search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := call(t, plain, tt.method, base+tt.path, auth, "{}")
			if a.status != http.StatusNotFound || strings.Contains(a.body, "error_type") || strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s = %d %q (%s), want a 404 that is not Stytch's JSON", tt.method, tt.path, a.status, a.body, a.header.Get("Content-Type"))
			}
		})
	}
	if got := s.Status(tOrg, tMember); got != StytchDeleted {
		t.Errorf("Status after unknown paths = %q, want deleted", got)
	}
}

func TestStytchSlugsAndCallKeys(t *testing.T) {
	t.Parallel()
	s := NewStytch(tProject, tSecret)
	s.AddOrg(tOrg, "acme")
	s.AddMember(tOrg, tMember, StytchDeleted, true)
	base := serve(t, s)
	auth := map[string]string{"Authorization": basic(tProject, tSecret)}
	for _, org := range []string{"acme", tOrg} {
		call(t, plain, http.MethodPut, base+"/v1/b2b/organizations/"+org+"/members/"+tMember+"/reactivate", auth, "")
	}
	for _, key := range []string{tOrg + "/" + tMember, "acme/" + tMember} {
		if got := s.Calls(key); got != 2 {
			t.Errorf("Calls(%q) = %d, want 2 (one by slug, one by id)", key, got)
		}
	}
	if got := s.Status("acme", tMember); got != StytchActive {
		t.Errorf("Status(acme, member) = %q, want active", got)
	}
	if got := s.Status("organization-test-other", tMember); got != "" {
		t.Errorf("Status(other org, member) = %q, want \"\"", got)
	}
}

func TestStytchConcurrentReactivations(t *testing.T) {
	t.Parallel()
	s := NewStytch(tProject, tSecret)
	const n = 200
	for i := range n {
		s.AddMember(tOrg, fmt.Sprintf("member-test-%d", i), StytchDeleted, true)
	}
	base := serve(t, s)
	auth := map[string]string{"Authorization": basic(tProject, tSecret)}
	var wg sync.WaitGroup
	statuses := make([]int, 2*n)
	for i := range 2 * n {
		wg.Go(func() {
			url := fmt.Sprintf("%s/v1/b2b/organizations/%s/members/member-test-%d/reactivate", base, tOrg, i%n)
			statuses[i] = call(t, plain, http.MethodPut, url, auth, "{}").status
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		if got := s.Status(tOrg, fmt.Sprintf("member-test-%d", i)); got != StytchActive {
			t.Errorf("Status(member-test-%d) = %q, want active", i, got)
		}
		for _, st := range []int{statuses[i], statuses[i+n]} {
			if st == http.StatusOK {
				ok++
			} else if st != http.StatusBadRequest {
				t.Errorf("member-test-%d answered %d, want 200 or 400", i, st)
			}
		}
	}
	if ok != n || s.TotalCalls() != 2*n {
		t.Errorf("%d successes of %d calls (TotalCalls %d), want one success per member", ok, 2*n, s.TotalCalls())
	}
}
