// This file checks that every answer the fakes give from state is the one in the Cases table.

package fakeidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"reactivator/jobs"
)

// caseNamed returns the table's case called name.
func caseNamed(t *testing.T, name string) Case {
	t.Helper()
	for _, c := range Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %q in Cases", name)
	return Case{}
}

var (
	stytchRequestIDField = regexp.MustCompile(`"request_id":"([^"]*)"`)
	stytchMessageField   = regexp.MustCompile(`"error_message":"[^"]*"`)
	stytchRequestIDForm  = regexp.MustCompile(`^request-id-test-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// normaliseStytch replaces a body's request id with the table's and blanks its error message,
// whose text Stytch does not publish (the table's say "scripted …").
func normaliseStytch(body string) string {
	body = stytchRequestIDField.ReplaceAllString(body, `"request_id":"`+StytchRequestID+`"`)
	return stytchMessageField.ReplaceAllString(body, `"error_message":"…"`)
}

func TestStytchAnswersAreTheTables(t *testing.T) {
	t.Parallel()
	member := func(status string, verified bool) func(*Stytch) {
		return func(s *Stytch) { s.AddOrg(tOrg, "acme"); s.AddMember(tOrg, tMember, status, verified) }
	}
	deleted := member(StytchDeleted, true)
	good := basic(tProject, tSecret)
	tests := []struct {
		name  string
		want  string
		setup func(*Stytch)
		auth  string
		calls int
		// then is the member's status afterwards, "" for no check.
		then string
	}{
		{name: "deleted_verified", want: "stytch/success_200", setup: deleted, then: StytchActive},
		{name: "by_slug", want: "stytch/success_200", setup: deleted, then: StytchActive},
		{name: "active", want: "stytch/not_deleted", setup: member(StytchActive, true), then: StytchActive},
		{name: "invited", want: "stytch/not_deleted", setup: member(StytchInvited, true), then: StytchInvited},
		{name: "pending", want: "stytch/not_deleted", setup: member(StytchPending, false), then: StytchPending},
		{name: "deleted_unverified", want: "stytch/email_unverified", setup: member(StytchDeleted, false), then: StytchDeleted},
		{name: "unknown_member", want: "stytch/member_not_found", setup: func(s *Stytch) { s.AddOrg(tOrg, "acme") }},
		{name: "unknown_org", want: "stytch/organization_not_found", setup: func(*Stytch) {}},
		{name: "member_of_another_org", want: "stytch/member_not_in_organization", setup: func(s *Stytch) {
			s.AddOrg(tOrg, "acme")
			s.AddMember("organization-test-other", tMember, StytchDeleted, true)
		}},
		{name: "wrong_secret", want: "stytch/unauthorized_credentials", setup: deleted, auth: basic(tProject, "wrong"), then: StytchDeleted},
		{name: "wrong_project", want: "stytch/unauthorized_credentials", setup: deleted, auth: basic("project-test-other", tSecret), then: StytchDeleted},
		{name: "no_credentials", want: "stytch/unauthorized_credentials", setup: deleted, auth: "-", then: StytchDeleted},
		{name: "rate_limited", want: "stytch/too_many_requests", calls: 2, setup: func(s *Stytch) {
			deleted(s)
			s.SetRateLimit(RateLimit{PerSecond: 1, Burst: 1})
		}},
		{name: "rate_limited_retry_after", want: "stytch/too_many_requests_retry_after", calls: 2, setup: func(s *Stytch) {
			deleted(s)
			s.SetRateLimit(RateLimit{PerSecond: 1, Burst: 1, RetryAfter: true})
		}},
		{name: "server_error", want: "stytch/internal_server_error", setup: func(s *Stytch) {
			deleted(s)
			s.SetFaults(Faults{Rate5xx: 1})
		}, then: StytchDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := caseNamed(t, tt.want)
			s := NewStytch(tProject, tSecret)
			s.SetClock(newTestClock())
			tt.setup(s)
			org := tOrg
			if tt.name == "by_slug" {
				org = "acme"
			}
			auth := tt.auth
			switch auth {
			case "":
				auth = good
			case "-":
				auth = ""
			}
			url := serve(t, s) + "/v1/b2b/organizations/" + org + "/members/" + tMember + "/reactivate"
			var a answer
			for range max(tt.calls, 1) {
				a = call(t, plain, http.MethodPut, url, map[string]string{"Authorization": auth}, "{}")
			}
			if a.err != nil {
				t.Fatalf("reactivate: %v", a.err)
			}
			if got, wantBody := normaliseStytch(a.body), normaliseStytch(want.Body); a.status != want.Status || got != wantBody {
				t.Errorf("reactivate = %d %s, want %d %s (request id and message aside)", a.status, got, want.Status, wantBody)
			}
			if m := stytchRequestIDField.FindStringSubmatch(a.body); m == nil || !stytchRequestIDForm.MatchString(m[1]) {
				t.Errorf("reactivate body %s: request_id is not request-id-test-<uuid>", a.body)
			}
			checkHeaders(t, want, a, "Retry-After")
			if tt.then != "" {
				if got := s.Status(tOrg, tMember); got != tt.then {
					t.Errorf("Status(%s, %s) after the call = %q, want %q", tOrg, tMember, got, tt.then)
				}
			}
		})
	}
}

func TestZitadelAnswersAreTheTables(t *testing.T) {
	t.Parallel()
	const otherOrg = "400907376431000001"
	user := func(state string) func(*Zitadel) {
		return func(z *Zitadel) { z.AddUser(tUser, tZOrg, state) }
	}
	inactive := user(ZitadelInactive)
	tests := []struct {
		name string
		// want is the case's name without its "zitadel_<api>/" prefix when apis has both APIs.
		want   string
		apis   []string
		host   string
		setup  func(*Zitadel)
		header map[string]string
		method string
		calls  int
		then   string
	}{
		{name: "inactive", want: "success", setup: inactive, then: ZitadelActive},
		{name: "active", want: "not_inactive", setup: user(ZitadelActive), then: ZitadelActive},
		{name: "locked", want: "not_inactive", setup: user(ZitadelLocked), then: ZitadelLocked},
		{name: "initial", want: "not_inactive", setup: user(ZitadelInitial), then: ZitadelInitial},
		{name: "unknown", want: "not_found", setup: func(*Zitadel) {}},
		{name: "deleted", want: "not_found", setup: user(ZitadelDeleted), then: ZitadelDeleted},
		{name: "no_token", want: "no_token", setup: inactive, header: map[string]string{"Authorization": ""}, then: ZitadelInactive},
		{name: "bad_token", want: "bad_token", setup: inactive, header: map[string]string{"Authorization": "Bearer not-a-valid-token"}, then: ZitadelInactive},
		{name: "rate_limited", want: "rate_limited", calls: 2, setup: func(z *Zitadel) {
			inactive(z)
			z.SetRateLimit(RateLimit{PerSecond: 1, Burst: 1})
		}},
		{name: "server_error", want: "unavailable", setup: func(z *Zitadel) {
			inactive(z)
			z.SetFaults(Faults{Rate5xx: 1})
		}, then: ZitadelInactive},
		{name: "wrong_host", want: "wrong_host", host: "localhost:8080", setup: inactive, header: map[string]string{"Host": "127.0.0.1:8080"}, then: ZitadelInactive},
		{name: "get", want: "method_not_allowed", setup: inactive, method: http.MethodGet, then: ZitadelInactive},
		// v2 checks existence and state before permission.
		{name: "no_permission_inactive", want: "zitadel_v2/permission_denied", apis: []string{"v2"}, setup: func(z *Zitadel) {
			inactive(z)
			z.DenyWrite(tZOrg)
		}, then: ZitadelInactive},
		{name: "no_permission_active", want: "zitadel_v2/not_inactive", apis: []string{"v2"}, setup: func(z *Zitadel) {
			user(ZitadelActive)(z)
			z.DenyWrite(tZOrg)
		}},
		{name: "no_permission_unknown", want: "zitadel_v2/not_found", apis: []string{"v2"}, setup: func(z *Zitadel) { z.DenyWrite(tZOrg) }},
		{name: "user_of_another_org", want: "zitadel_v2/success", apis: []string{"v2"}, setup: func(z *Zitadel) {
			z.AddUser(tUser, otherOrg, ZitadelInactive)
		}, then: ZitadelActive},
		// v1 checks permission first, in the caller's org or the x-zitadel-orgid one.
		{name: "no_permission_unknown", want: "zitadel_v1/permission_denied_own_org", apis: []string{"v1"}, setup: func(z *Zitadel) { z.DenyWrite(tZOrg) }},
		{name: "no_permission_active", want: "zitadel_v1/permission_denied_own_org", apis: []string{"v1"}, setup: func(z *Zitadel) {
			user(ZitadelActive)(z)
			z.DenyWrite(tZOrg)
		}},
		{name: "no_permission_in_row_org", want: "zitadel_v1/permission_denied_row_org", apis: []string{"v1"}, setup: func(z *Zitadel) {
			z.AddUser(tUser, otherOrg, ZitadelInactive)
			z.DenyWrite(otherOrg)
		}, header: map[string]string{"X-Zitadel-Orgid": otherOrg}, then: ZitadelInactive},
		{name: "unknown_row_org", want: "zitadel_v1/unknown_row_org", apis: []string{"v1"}, setup: inactive,
			header: map[string]string{"X-Zitadel-Orgid": "999999999999999999"}, then: ZitadelInactive},
		{name: "unknown_default_org", want: "zitadel_v1/unknown_default_org", apis: []string{"v1"}, setup: inactive,
			header: map[string]string{"X-Zitadel-Orgid": "999999999999999999"}, then: ZitadelInactive},
		{name: "user_of_another_org", want: "zitadel_v1/not_found", apis: []string{"v1"}, setup: func(z *Zitadel) {
			z.AddUser(tUser, otherOrg, ZitadelInactive)
		}, then: ZitadelInactive},
		{name: "user_of_the_row_org", want: "zitadel_v1/success", apis: []string{"v1"}, setup: func(z *Zitadel) {
			z.AddUser(tUser, otherOrg, ZitadelInactive)
		}, header: map[string]string{"X-Zitadel-Orgid": otherOrg}, then: ZitadelActive},
	}
	for _, tt := range tests {
		apis := tt.apis
		if apis == nil {
			apis = []string{"v1", "v2"}
		}
		for _, api := range apis {
			t.Run(api+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				name := tt.want
				if !strings.Contains(name, "/") {
					name = "zitadel_" + api + "/" + name
				}
				want := caseNamed(t, name)
				host := tt.host
				if host == "" {
					host = "127.0.0.1"
				}
				z := NewZitadel(host)
				z.SetClock(newTestClock())
				z.AddToken(tPAT, tZOrg)
				tt.setup(z)
				header := map[string]string{"Authorization": "Bearer " + tPAT, "Content-Type": "application/json"}
				for k, v := range tt.header {
					header[k] = v
				}
				method := tt.method
				if method == "" {
					method = http.MethodPost
				}
				url := serve(t, z) + zitadelPath(api, tUser)
				var a answer
				for range max(tt.calls, 1) {
					a = call(t, plain, method, url, header, "{}")
				}
				if a.err != nil {
					t.Fatalf("reactivate: %v", a.err)
				}
				wantBody := want.Body
				if want.Want == jobs.ClassReactivated {
					// The success carries the user's new version: sequence and change date.
					u, _ := z.User(tUser)
					wantBody = fmt.Sprintf(`{"details":{"sequence":"%d", "changeDate":%q, "resourceOwner":%q}}`, u.Sequence, protoTime(u.Changed), u.OrgID)
					if !sameJSONShape(t, a.body, want.Body) || u.Sequence != 4 || !u.Changed.Equal(z.now()) {
						t.Errorf("reactivated user %+v: want sequence 4 and changed now (%v), body of the table's shape", u, z.now())
					}
				}
				if a.status != want.Status || a.body != wantBody {
					t.Errorf("reactivate = %d %s, want %d %s", a.status, a.body, want.Status, wantBody)
				}
				if _, ok := want.Header["X-Request-Id"]; !ok && a.header.Get("X-Request-Id") == "" {
					t.Errorf("reactivate answered without X-Request-Id")
				}
				checkHeaders(t, want, a, "X-Request-Id")
				if tt.then != "" {
					if got := z.State(tUser); got != tt.then {
						t.Errorf("State(%s) after the call = %q, want %q", tUser, got, tt.then)
					}
				}
			})
		}
	}
}

// TestZitadelHeadersAreTheTranscripts checks the header names of each kind of answer against
// the real server's answers (Date and Content-Length aside).
func TestZitadelHeadersAreTheTranscripts(t *testing.T) {
	t.Parallel()
	v1Error := []string{"Cache-Control", "Content-Type", "Expires", "Grpcgateway-Cache-Control", "Grpcgateway-Content-Type",
		"Grpcgateway-Pragma", "Pragma", "Vary", "X-Request-Id", "X-Robots-Tag"}
	v1Success := append([]string{"Set-Cookie"}, v1Error...)
	v2Error := []string{"Content-Type", "Grpcgateway-Content-Type", "Grpcgateway-Date", "Vary", "X-Request-Id", "X-Robots-Tag"}
	v2Success := append([]string{"Grpcgateway-Cache-Control", "Grpcgateway-Pragma", "Set-Cookie"}, v2Error...)
	tests := []struct {
		name   string
		api    string
		state  string
		token  string
		method string
		want   []string
		vary   []string
	}{
		{name: "v1_success", api: "v1", state: ZitadelInactive, want: v1Success, vary: []string{"Origin", "Cookie"}},
		{name: "v1_not_inactive", api: "v1", state: ZitadelActive, want: v1Error, vary: []string{"Origin"}},
		{name: "v1_no_token", api: "v1", state: ZitadelInactive, token: "-", want: append([]string{"Www-Authenticate"}, v1Error...), vary: []string{"Origin"}},
		{name: "v2_success", api: "v2", state: ZitadelInactive, want: v2Success, vary: []string{"Origin", "Cookie"}},
		{name: "v2_not_inactive", api: "v2", state: ZitadelActive, want: v2Error, vary: []string{"Origin"}},
		{name: "v2_bad_token", api: "v2", state: ZitadelInactive, token: "bad", want: append([]string{"Www-Authenticate"}, v2Error...), vary: []string{"Origin"}},
		{name: "v1_get", api: "v1", state: ZitadelInactive, method: http.MethodGet, want: []string{"Content-Type", "Vary", "X-Request-Id", "X-Robots-Tag"}, vary: []string{"Origin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := NewZitadel("")
			z.AddToken(tPAT, tZOrg)
			z.AddUser(tUser, tZOrg, tt.state)
			auth := "Bearer " + tPAT
			switch tt.token {
			case "-":
				auth = ""
			case "bad":
				auth = "Bearer bad"
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			a := call(t, plain, method, serve(t, z)+zitadelPath(tt.api, tUser), map[string]string{"Authorization": auth}, "")
			var got []string
			for k := range a.header {
				if k != "Date" && k != "Content-Length" {
					got = append(got, k)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("header names = %v, want %v", got, want)
			}
			if got := a.header.Values("Vary"); !slices.Equal(got, tt.vary) {
				t.Errorf("Vary = %v, want %v", got, tt.vary)
			}
			if a.header.Get("Content-Length") == "" {
				t.Errorf("answer without Content-Length")
			}
			for _, h := range []string{"Expires", "Grpcgateway-Date"} {
				if v := a.header.Get(h); v != "" {
					if _, err := http.ParseTime(v); err != nil {
						t.Errorf("%s = %q, not an HTTP date: %v", h, v, err)
					}
				}
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	s := NewStytch(tProject, tSecret)
	zb, sb := serve(t, z), serve(t, s)
	seen := map[string]bool{}
	for range 50 {
		a := call(t, plain, http.MethodPost, zb+zitadelPath("v2", tUser), nil, "")
		id := a.header.Get("X-Request-Id")
		if len(id) != 20 || seen[id] {
			t.Fatalf("X-Request-Id = %q, want a fresh 20-character id", id)
		}
		seen[id] = true
		b := call(t, plain, http.MethodPut, sb+"/v1/b2b/organizations/o/members/m/reactivate", nil, "")
		m := stytchRequestIDField.FindStringSubmatch(b.body)
		if m == nil || seen[m[1]] || !stytchRequestIDForm.MatchString(m[1]) {
			t.Fatalf("Stytch body %s: want a fresh request-id-test-<uuid>", b.body)
		}
		seen[m[1]] = true
	}
	live := NewStytch("project-live-00000000-0000-4000-8000-000000000003", tSecret)
	b := call(t, plain, http.MethodPut, serve(t, live)+"/v1/b2b/organizations/o/members/m/reactivate", nil, "")
	if !strings.Contains(b.body, `"request_id":"request-id-live-`) {
		t.Errorf("live project's body %s, want a request-id-live- id", b.body)
	}
}

func TestWrongHostBodyIsTheTranscripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, external, host string
		ok                   bool
	}{
		{name: "transcript", external: "localhost:8080", host: "127.0.0.1:8080"},
		{name: "same_host_and_port", external: "localhost:8080", host: "localhost:8080", ok: true},
		{name: "other_port", external: "localhost:8080", host: "localhost:8081"},
		{name: "any_port", external: "localhost", host: "LOCALHOST:8081", ok: true},
		{name: "other_name", external: "acme.zitadel.cloud", host: "evil.zitadel.cloud"},
		{name: "any_host", external: "", host: "whatever:1", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := NewZitadel(tt.external)
			if got := z.hostOK(tt.host); got != tt.ok {
				t.Errorf("NewZitadel(%q).hostOK(%q) = %v, want %v", tt.external, tt.host, got, tt.ok)
			}
		})
	}
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/v2/users/1/reactivate", nil)
	if got := wrongHostBody(r, "localhost:8080"); got != ZitadelWrongHost {
		t.Errorf("wrongHostBody(127.0.0.1:8080, localhost:8080) = %s, want %s", got, ZitadelWrongHost)
	}
}

// sameJSONShape reports whether two JSON bodies have the same keys at every level (values aside).
func sameJSONShape(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		t.Errorf("bodies %s and %s: not both JSON", a, b)
		return false
	}
	return shape(x) == shape(y)
}

// shape is the keys of a JSON value, nested, sorted by encoding/json.
func shape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		m := map[string]string{}
		for k, e := range v {
			m[k] = shape(e)
		}
		b, _ := json.Marshal(m)
		return string(b)
	case []any:
		if len(v) > 0 {
			return "[" + shape(v[0]) + "]"
		}
		return "[]"
	}
	return "."
}
