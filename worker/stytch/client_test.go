// This file tests Client against httptest servers that answer like Stytch, and Classify on
// answers beyond fakeidp.Cases, fuzzed too.

package stytch_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"reactivator/internal/fakeidp"
	"reactivator/internal/version"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

const (
	testProject = "project-test-00000000-0000-4000-8000-00000000000a"
	testSecret  = "secret-test-Zm9vYmFyLXNlY3JldC1kby1ub3QtbGVhaw"
	testOrg     = "organization-test-00000000-0000-4000-8000-000000000001"
	testMember  = "member-test-00000000-0000-4000-8000-000000000002"
	liveMember  = "member-live-00000000-0000-4000-8000-000000000002"
	liveOrg     = "organization-live-00000000-0000-4000-8000-000000000001"
)

// seen is one request as the fake server received it.
type seen struct {
	method      string
	escapedPath string
	requestURI  string
	header      http.Header
	user, pass  string
	basicOK     bool
	body        string
}

// fake is an httptest server that records what reached it and answers with handler.
type fake struct {
	srv   *httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	reqs  []seen
}

func newFake(t *testing.T, handler http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		u, p, ok := r.BasicAuth()
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{method: r.Method, escapedPath: r.URL.EscapedPath(), requestURI: r.RequestURI,
			header: r.Header.Clone(), user: u, pass: p, basicOK: ok, body: string(b)})
		f.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// last returns the last request the fake received.
func (f *fake) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return f.reqs[len(f.reqs)-1]
}

// answer returns a handler that answers with the case's status, headers, content type and body.
func answer(c fakeidp.Case) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		ct := c.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		for k, v := range c.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.Status)
		_, _ = io.WriteString(w, c.Body)
	}
}

// newClient returns a client of the test project whose base URL is baseURL.
func newClient(t *testing.T, baseURL string, edit func(*stytch.Config)) *stytch.Client {
	t.Helper()
	cfg := stytch.Config{ProjectID: testProject, Secret: testSecret, BaseURL: baseURL}
	if edit != nil {
		edit(&cfg)
	}
	c, err := stytch.New(cfg)
	if err != nil {
		t.Fatalf("New(%v) error = %v, want nil", cfg, err)
	}
	return c
}

func row(org, member string) jobs.Row {
	return jobs.Row{Line: 2, Provider: jobs.Stytch, OrgID: org, MemberID: member}
}

func stytchCases() []fakeidp.Case {
	var cs []fakeidp.Case
	for _, c := range fakeidp.Cases {
		if c.Provider == jobs.Stytch && c.Op == "" {
			cs = append(cs, c)
		}
	}
	return cs
}

func TestReactivateCases(t *testing.T) {
	t.Parallel()
	cases := stytchCases()
	if len(cases) < 30 {
		t.Fatalf("fakeidp.Cases has %d Stytch cases, want at least 30", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(tc))
			c := newClient(t, f.srv.URL, nil)
			got := c.Reactivate(context.Background(), row(testOrg, testMember))
			if got.Class != tc.Want {
				t.Errorf("Reactivate() Class = %q, want %q (message %q)", got.Class, tc.Want, got.Message)
			}
			if got.ErrorType != tc.WantType {
				t.Errorf("Reactivate() ErrorType = %q, want %q", got.ErrorType, tc.WantType)
			}
			if got.HTTPStatus != tc.Status {
				t.Errorf("Reactivate() HTTPStatus = %d, want %d", got.HTTPStatus, tc.Status)
			}
			if !got.Called {
				t.Errorf("Reactivate() Called = false, want true")
			}
			wantID := ""
			if tc.ContentType == "" && strings.Contains(tc.Body, `"request_id"`) {
				wantID = fakeidp.StytchRequestID
			}
			if got.RequestID != wantID {
				t.Errorf("Reactivate() RequestID = %q, want %q", got.RequestID, wantID)
			}
			if v := tc.Header["Retry-After"]; v != "" {
				secs, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("case %s: Retry-After %q is not seconds; extend this test", tc.Name, v)
				}
				if want := time.Duration(secs) * time.Second; got.RetryAfter != want {
					t.Errorf("Reactivate() RetryAfter = %v, want %v", got.RetryAfter, want)
				}
			} else if got.RetryAfter != 0 {
				t.Errorf("Reactivate() RetryAfter = %v, want 0 (no header)", got.RetryAfter)
			}
			if wantAmb := tc.Status >= 500; got.Ambiguous != wantAmb {
				t.Errorf("Reactivate() Ambiguous = %v, want %v", got.Ambiguous, wantAmb)
			}
			if got.Class != jobs.ClassReactivated && got.Message == "" {
				t.Errorf("Reactivate() Message = %q, want the provider's message or a description", got.Message)
			}
			var eb struct {
				ErrorMessage string `json:"error_message"`
			}
			if json.Unmarshal([]byte(tc.Body), &eb) == nil && eb.ErrorMessage != "" && !strings.HasPrefix(got.Message, eb.ErrorMessage) {
				t.Errorf("Reactivate() Message = %q, want the provider's error_message %q first", got.Message, eb.ErrorMessage)
			}
			if n := f.calls.Load(); n != 1 {
				t.Errorf("server received %d requests, want 1", n)
			}
		})
	}
}

func TestReactivateRefusesBadRows(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(stytchCases()[0]))
	c := newClient(t, f.srv.URL, nil)
	tests := []struct {
		name string
		row  jobs.Row
	}{
		{"empty org", row("", testMember)},
		{"empty member", row(testOrg, "")},
		{"slash in org", row("acme/../x", testMember)},
		{"slash in member", row(testOrg, "member-test-a/b")},
		{"question mark", row("acme?x=1", testMember)},
		{"hash", row("acme#frag", testMember)},
		{"encoded slash", row("acme%2Fadmin", testMember)},
		{"dot dot slash", row("../organizations", testMember)},
		{"dot dot", row("..", testMember)},
		{"backslash", row(`acme\x`, testMember)},
		{"space", row("acme corp", testMember)},
		{"tab", row("acme\tcorp", testMember)},
		{"newline", row("acme\ncorp", testMember)},
		{"carriage return in member", row(testOrg, testMember+"\r")},
		{"nul", row("acme\x00", testMember)},
		{"escape char", row("acme\x1b[31m", testMember)},
		{"not utf8", row("acme\xff", testMember)},
		{"member not a member id", row(testOrg, "ada@example.com")},
		{"live member with test project", row(testOrg, liveMember)},
		{"live org with test project", row(liveOrg, testMember)},
		{"live member with slug org", row("acme", liveMember)},
		{"zitadel row", jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: "69629012906488334"}},
		{"no provider", jobs.Row{Line: 2, OrgID: testOrg, MemberID: testMember}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := c.Reactivate(context.Background(), tt.row)
			if got.Class != jobs.ClassRejected || got.Called || got.Message == "" {
				t.Errorf("Reactivate(%q, %q) = {Class: %q, Called: %v, Message: %q}, want {Class: rejected, Called: false, Message: why}",
					tt.row.OrgID, tt.row.MemberID, got.Class, got.Called, got.Message)
			}
		})
	}
	t.Cleanup(func() {
		if n := f.calls.Load(); n != 0 {
			t.Errorf("server received %d requests for refused rows, want 0", n)
		}
	})
}

func TestReactivateLiveProjectRefusesTestIDs(t *testing.T) {
	t.Parallel()
	f := newFake(t, answer(stytchCases()[0]))
	c := newClient(t, f.srv.URL, func(cfg *stytch.Config) { cfg.ProjectID = "project-live-00000000-0000-4000-8000-00000000000a" })
	got := c.Reactivate(context.Background(), row(testOrg, liveMember))
	if got.Class != jobs.ClassRejected || got.Called || !strings.Contains(got.Message, "organization_id") {
		t.Errorf("Reactivate(test org, live member) = {%q, called %v, %q}, want rejected, not called, naming organization_id", got.Class, got.Called, got.Message)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("server received %d requests, want 0", n)
	}
}

func TestReactivateAcceptsSlugAndExternalID(t *testing.T) {
	t.Parallel()
	for _, org := range []string{"acme-corp", "ext_42", "organization-acme"} {
		t.Run(org, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(stytchCases()[0]))
			c := newClient(t, f.srv.URL, nil)
			got := c.Reactivate(context.Background(), row(org, testMember))
			if got.Class != jobs.ClassReactivated || !got.Called {
				t.Errorf("Reactivate(%q) = {%q, called %v, %q}, want reactivated, called", org, got.Class, got.Called, got.Message)
			}
			if n := f.calls.Load(); n != 1 {
				t.Errorf("server received %d requests, want 1", n)
			}
		})
	}
}

func TestReactivateExactPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, basePath, org, member, want string
	}{
		{"id", "", testOrg, testMember,
			"/v1/b2b/organizations/" + testOrg + "/members/" + testMember + "/reactivate"},
		{"slug with escapes", "", "acmé;co,x", testMember,
			"/v1/b2b/organizations/acm%C3%A9%3Bco%2Cx/members/" + testMember + "/reactivate"},
		{"slug with sub-delims", "", "a+b:c@d=e&f$", testMember,
			"/v1/b2b/organizations/a+b:c@d=e&f$/members/" + testMember + "/reactivate"},
		{"dots", "", "...", "member-test-.", "/v1/b2b/organizations/.../members/member-test-./reactivate"},
		{"proxy prefix", "/stytch/", "acme", testMember,
			"/stytch/v1/b2b/organizations/acme/members/" + testMember + "/reactivate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(stytchCases()[0]))
			c := newClient(t, f.srv.URL+tt.basePath, nil)
			got := c.Reactivate(context.Background(), row(tt.org, tt.member))
			if got.Class != jobs.ClassReactivated {
				t.Fatalf("Reactivate(%q, %q) Class = %q, want reactivated (%s)", tt.org, tt.member, got.Class, got.Message)
			}
			s := f.last(t)
			if s.escapedPath != tt.want || s.requestURI != tt.want {
				t.Errorf("Reactivate(%q, %q) reached path %q (request URI %q), want %q", tt.org, tt.member, s.escapedPath, s.requestURI, tt.want)
			}
			if s.method != http.MethodPut || s.body != "{}" {
				t.Errorf("Reactivate() sent %s with body %q, want PUT with body {}", s.method, s.body)
			}
		})
	}
}

func TestReactivateHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		session, jwt     string
		wantSess, wantJW bool
	}{
		{name: "no session"},
		{name: "session", session: "mst_session_token", wantSess: true},
		{name: "jwt", jwt: "eyJhbGciOiJSUzI1NiJ9.e30.sig", wantJW: true},
		{name: "both", session: "mst_session_token", jwt: "eyJhbGciOiJSUzI1NiJ9.e30.sig", wantSess: true, wantJW: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(stytchCases()[0]))
			c := newClient(t, f.srv.URL, func(cfg *stytch.Config) { cfg.MemberSession, cfg.MemberSessionJWT = tt.session, tt.jwt })
			c.Reactivate(context.Background(), row(testOrg, testMember))
			s := f.last(t)
			if !s.basicOK || s.user != testProject || s.pass != testSecret {
				t.Errorf("basic auth seen = (%q, ok %v), want (%q, the secret)", s.user, s.basicOK, testProject)
			}
			if got, want := s.header.Get("User-Agent"), version.UserAgent(); got != want {
				t.Errorf("User-Agent = %q, want %q", got, want)
			}
			if got := s.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			checkHeader := func(name, want string, set bool) {
				t.Helper()
				vals, ok := s.header[http.CanonicalHeaderKey(name)]
				switch {
				case set && (len(vals) != 1 || vals[0] != want):
					t.Errorf("%s = %q, want [%q]", name, vals, want)
				case !set && ok:
					t.Errorf("%s = %q, want no such header", name, vals)
				}
			}
			checkHeader("X-Stytch-Member-Session", tt.session, tt.wantSess)
			checkHeader("X-Stytch-Member-SessionJWT", tt.jwt, tt.wantJW)
		})
	}
}

func TestReactivateDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	c := newClient(t, f.srv.URL, nil)
	got := c.Reactivate(context.Background(), row(testOrg, testMember))
	if got.Class != jobs.ClassFatal || got.HTTPStatus != http.StatusTemporaryRedirect {
		t.Errorf("Reactivate() after 307 = {%q, %d}, want {fatal, 307}", got.Class, got.HTTPStatus)
	}
	if !strings.Contains(got.Message, "STYTCH_BASE_URL") {
		t.Errorf("Reactivate() Message = %q, want it to name STYTCH_BASE_URL", got.Message)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("server received %d requests, want 1 (no redirect followed)", n)
	}
}

func TestReactivateTransportFailures(t *testing.T) {
	t.Parallel()

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) })
		c := newClient(t, f.srv.URL, func(cfg *stytch.Config) { cfg.Timeout = 50 * time.Millisecond })
		got := c.Reactivate(context.Background(), row(testOrg, testMember))
		if got.Class != jobs.ClassTransient || !got.Ambiguous || !got.Called || got.HTTPStatus != 0 {
			t.Errorf("Reactivate() on a stalled server = {%q, ambiguous %v, called %v, %d}, want {transient, true, true, 0}", got.Class, got.Ambiguous, got.Called, got.HTTPStatus)
		}
	})

	t.Run("timeout with own http client", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) })
		c := newClient(t, f.srv.URL, func(cfg *stytch.Config) {
			cfg.Timeout = 50 * time.Millisecond
			cfg.HTTPClient = &http.Client{} // no timeout of its own: Config.Timeout must still bound the call
		})
		got := c.Reactivate(context.Background(), row(testOrg, testMember))
		if got.Class != jobs.ClassTransient || !got.Ambiguous {
			t.Errorf("Reactivate() on a stalled server = {%q, ambiguous %v}, want {transient, true}", got.Class, got.Ambiguous)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c := newClient(t, "http://"+addr, nil)
		got := c.Reactivate(context.Background(), row(testOrg, testMember))
		if got.Class != jobs.ClassTransient || got.Ambiguous || got.HTTPStatus != 0 {
			t.Errorf("Reactivate() to a closed port = {%q, ambiguous %v, %d, %q}, want {transient, false, 0}", got.Class, got.Ambiguous, got.HTTPStatus, got.Message)
		}
	})

	t.Run("connection closed by server", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("Hijack() error = %v", err)
				return
			}
			conn.Close()
		})
		c := newClient(t, f.srv.URL, nil)
		got := c.Reactivate(context.Background(), row(testOrg, testMember))
		if got.Class != jobs.ClassTransient || !got.Ambiguous || got.HTTPStatus != 0 {
			t.Errorf("Reactivate() on a dropped connection = {%q, ambiguous %v, %d, %q}, want {transient, true, 0}", got.Class, got.Ambiguous, got.HTTPStatus, got.Message)
		}
		if n := f.calls.Load(); n != 1 {
			t.Errorf("server received %d requests, want 1 (a PUT is not replayed)", n)
		}
	})

	t.Run("context cancelled before the call", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, answer(stytchCases()[0]))
		c := newClient(t, f.srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		got := c.Reactivate(ctx, row(testOrg, testMember))
		if got.Class != jobs.ClassTransient || got.Called || got.Ambiguous {
			t.Errorf("Reactivate(cancelled ctx) = {%q, called %v, ambiguous %v}, want {transient, false, false}", got.Class, got.Called, got.Ambiguous)
		}
		if n := f.calls.Load(); n != 0 {
			t.Errorf("server received %d requests, want 0", n)
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	searchOK := `{"request_id":"request-id-test-1","organizations":[],"results_metadata":{"total":0,"next_cursor":null},"status_code":200}`
	tests := []struct {
		name        string
		c           fakeidp.Case
		wantErr     bool
		wantFatal   bool
		wantInError string
	}{
		{name: "ok", c: fakeidp.Case{Status: 200, Body: searchOK}},
		{name: "unauthorized", c: fakeidp.Case{Status: 401, Body: fakeidp.StytchError(401, "unauthorized_credentials", "Unauthorized credentials.")},
			wantErr: true, wantFatal: true, wantInError: "STYTCH_SECRET"},
		{name: "wrong environment", c: fakeidp.Case{Status: 401, Body: fakeidp.StytchError(401, "unauthorized_project_id_live", "live id on test")},
			wantErr: true, wantFatal: true, wantInError: "STYTCH_BASE_URL"},
		{name: "html 404", c: fakeidp.Case{Status: 404, ContentType: "text/html", Body: "<html>nope</html>"},
			wantErr: true, wantFatal: true, wantInError: "STYTCH_BASE_URL"},
		{name: "html 200", c: fakeidp.Case{Status: 200, ContentType: "text/html", Body: "<html>captive portal</html>"},
			wantErr: true, wantFatal: true, wantInError: "STYTCH_BASE_URL"},
		{name: "unavailable", c: fakeidp.Case{Status: 503, Body: fakeidp.StytchError(503, "internal_server_error", "try later")},
			wantErr: true, wantInError: "503"},
		{name: "rate limited", c: fakeidp.Case{Status: 429, Body: fakeidp.StytchError(429, "too_many_requests", "slow down")},
			wantErr: true, wantInError: "429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, answer(tt.c))
			c := newClient(t, f.srv.URL, nil)
			err := c.Check(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Check() = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if got := errors.Is(err, jobs.ErrFatal); got != tt.wantFatal {
					t.Errorf("errors.Is(Check() = %v, jobs.ErrFatal) = %v, want %v", err, got, tt.wantFatal)
				}
				if !strings.Contains(err.Error(), tt.wantInError) {
					t.Errorf("Check() = %v, want it to mention %q", err, tt.wantInError)
				}
			}
			s := f.last(t)
			if s.method != http.MethodPost || s.escapedPath != "/v1/b2b/organizations/search" || s.body != `{"limit":1}` {
				t.Errorf("Check() sent %s %s %s, want POST /v1/b2b/organizations/search {\"limit\":1}", s.method, s.escapedPath, s.body)
			}
			if s.user != testProject || s.pass != testSecret {
				t.Errorf("Check() basic auth user = %q, want %q with the secret", s.user, testProject)
			}
		})
	}
}

func TestCheckConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newClient(t, "http://"+addr, nil)
	err = c.Check(context.Background())
	if err == nil || errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Check() to a closed port = %v, want a plain (not fatal) error", err)
	}
}

func TestClassifyCases(t *testing.T) {
	t.Parallel()
	for _, tc := range stytchCases() {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.Header {
				h.Set(k, v)
			}
			got := stytch.Classify(tc.Status, h, []byte(tc.Body))
			if got.Class != tc.Want || got.ErrorType != tc.WantType {
				t.Errorf("Classify(%d, %s) = {%q, %q}, want {%q, %q}", tc.Status, tc.Name, got.Class, got.ErrorType, tc.Want, tc.WantType)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	member := fakeidp.StytchSuccess("organization-test-1", "member-test-2")
	serr := fakeidp.StytchError
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		want      jobs.Class
		wantType  string
		wantAmb   bool
		wantInMsg string
	}{
		{name: "200 member", status: 200, body: member, want: jobs.ClassReactivated, wantInMsg: "active"},
		{name: "200 member id only", status: 200, body: `{"member_id":"member-test-2"}`, want: jobs.ClassReactivated},
		{name: "200 html captive portal", status: 200, body: "<html>login</html>", want: jobs.ClassTransient, wantAmb: true},
		{name: "200 empty object", status: 200, body: `{}`, want: jobs.ClassTransient, wantAmb: true},
		{name: "200 empty body", status: 200, body: "", want: jobs.ClassTransient, wantAmb: true},
		{name: "200 error body", status: 200, body: serr(404, "member_not_found", "x"), want: jobs.ClassTransient, wantAmb: true},
		{name: "202 member", status: 202, body: member, want: jobs.ClassRejected, wantInMsg: "202"},
		{name: "204", status: 204, want: jobs.ClassTransient, wantAmb: true},
		{name: "type wins over status", status: 500, body: serr(500, "no_deleted_member_found_for_reactivation", "x"), want: jobs.ClassNotDeactivated, wantType: "no_deleted_member_found_for_reactivation"},
		{name: "credentials type at 400", status: 400, body: serr(400, "unauthorized_credentials", "x"), want: jobs.ClassFatal, wantType: "unauthorized_credentials", wantInMsg: "STYTCH_SECRET"},
		{name: "wrong environment hint", status: 401, body: serr(401, "unauthorized_project_id_test", "x"), want: jobs.ClassFatal, wantType: "unauthorized_project_id_test", wantInMsg: "STYTCH_BASE_URL"},
		{name: "use_https hint", status: 403, body: serr(403, "use_https", "x"), want: jobs.ClassFatal, wantType: "use_https", wantInMsg: "https"},
		{name: "unknown type 403", status: 403, body: serr(403, "some_new_forbidden", "x"), want: jobs.ClassFatal, wantType: "some_new_forbidden"},
		{name: "html 403 from a WAF", status: 403, header: http.Header{"Content-Type": {"text/html"}}, body: "<html>blocked</html>", want: jobs.ClassFatal, wantInMsg: "text/html"},
		{name: "unknown type 404", status: 404, body: serr(404, "some_new_missing_thing", "x"), want: jobs.ClassRejected, wantType: "some_new_missing_thing"},
		{name: "405 without type", status: 405, body: "", want: jobs.ClassFatal, wantInMsg: "STYTCH_BASE_URL"},
		{name: "407 proxy auth", status: 407, body: "", want: jobs.ClassFatal},
		{name: "408", status: 408, body: "", want: jobs.ClassTransient},
		{name: "409 unknown", status: 409, body: `{"error_type":"conflict_thing"}`, want: jobs.ClassRejected, wantType: "conflict_thing"},
		{name: "html 400", status: 400, body: "<html>400</html>", want: jobs.ClassRejected},
		{name: "301 redirect", status: 301, header: http.Header{"Location": {"https://stytch.com/"}}, want: jobs.ClassFatal, wantInMsg: "https://stytch.com/"},
		{name: "304", status: 304, want: jobs.ClassFatal},
		{name: "429 is not ambiguous", status: 429, body: serr(429, "too_many_requests", "x"), want: jobs.ClassTransient, wantType: "too_many_requests"},
		{name: "internal_server_error at 400 is ambiguous", status: 400, body: serr(400, "internal_server_error", "x"), want: jobs.ClassTransient, wantType: "internal_server_error", wantAmb: true},
		{name: "html 504", status: 504, body: "<html>504</html>", want: jobs.ClassTransient, wantAmb: true},
		{name: "status 0", status: 0, want: jobs.ClassTransient, wantAmb: true},
		{name: "status 199", status: 199, want: jobs.ClassTransient, wantAmb: true},
		{name: "status 700", status: 700, want: jobs.ClassTransient, wantAmb: true},
		{name: "error_type not a string", status: 400, body: `{"error_type":7,"request_id":"r"}`, want: jobs.ClassRejected},
		{name: "json array", status: 400, body: `[1,2]`, want: jobs.ClassRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := stytch.Classify(tt.status, h, []byte(tt.body))
			if got.Class != tt.want || got.ErrorType != tt.wantType || got.Ambiguous != tt.wantAmb {
				t.Errorf("Classify(%d, %.60q) = {%q, %q, ambiguous %v}, want {%q, %q, ambiguous %v} (message %q)",
					tt.status, tt.body, got.Class, got.ErrorType, got.Ambiguous, tt.want, tt.wantType, tt.wantAmb, got.Message)
			}
			if !strings.Contains(got.Message, tt.wantInMsg) {
				t.Errorf("Classify(%d, %.60q) Message = %q, want it to contain %q", tt.status, tt.body, got.Message, tt.wantInMsg)
			}
			if got.Class != jobs.ClassReactivated && got.Message == "" {
				t.Errorf("Classify(%d, %.60q) Message is empty, want a description", tt.status, tt.body)
			}
			if got.HTTPStatus != tt.status || !got.Called {
				t.Errorf("Classify(%d) = {HTTPStatus %d, Called %v}, want {%d, true}", tt.status, got.HTTPStatus, got.Called, tt.status)
			}
		})
	}
}

func TestClassifyRetryAfter(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 11, 23, 17, 37, 45, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"http date against the answer's Date", http.Header{"Retry-After": {date.Add(20 * time.Second).Format(http.TimeFormat)}, "Date": {date.Format(http.TimeFormat)}}, 20 * time.Second},
		{"http date in the past", http.Header{"Retry-After": {date.Add(-time.Minute).Format(http.TimeFormat)}, "Date": {date.Format(http.TimeFormat)}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"absent", http.Header{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := stytch.Classify(429, tt.header, []byte(fakeidp.StytchError(429, "too_many_requests", "x")))
			if got.RetryAfter != tt.want {
				t.Errorf("Classify(429, %v) RetryAfter = %v, want %v", tt.header, got.RetryAfter, tt.want)
			}
		})
	}
}

func TestClassifyCleansProviderText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 5000)
	body := `{"status_code":400,"request_id":"req\u0000\nid","error_type":"bad_request","error_message":"line1\nline2\u001b[31m` + long + `"}`
	got := stytch.Classify(400, http.Header{}, []byte(body))
	if strings.ContainsFunc(got.Message, unicode.IsControl) || strings.ContainsFunc(got.RequestID, unicode.IsControl) {
		t.Errorf("Classify() = {Message %.40q, RequestID %q}, want no control characters", got.Message, got.RequestID)
	}
	if n := utf8.RuneCountInString(got.Message); n > 301 {
		t.Errorf("Classify() Message has %d runes, want at most 301", n)
	}
	if !strings.HasPrefix(got.Message, "line1 line2") {
		t.Errorf("Classify() Message = %.40q, want it to start with %q", got.Message, "line1 line2")
	}
}

func TestClassifyNonJSONKeepsBodyOut(t *testing.T) {
	t.Parallel()
	got := stytch.Classify(502, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, []byte("<html>secret internal hostname db-7.corp</html>"))
	if strings.Contains(got.Message, "db-7") {
		t.Errorf("Classify(502, html) Message = %q, want no body text", got.Message)
	}
	if !strings.Contains(got.Message, "502") || !strings.Contains(got.Message, "text/html") {
		t.Errorf("Classify(502, html) Message = %q, want the status and content type", got.Message)
	}
}

func FuzzClassify(f *testing.F) {
	for _, c := range stytchCases() {
		f.Add(c.Status, c.Header["Retry-After"], c.ContentType, []byte(c.Body))
	}
	f.Add(200, "", "", []byte(`{"member":{"member_id":"m","status":"deleted"}}`))
	f.Add(204, "Wed, 21 Oct 2015 07:28:00 GMT", "", []byte{})
	f.Add(-1, "1e308", "text/plain", []byte{0xff, 0xfe})
	valid := map[jobs.Class]bool{}
	for _, c := range []jobs.Class{jobs.ClassReactivated, jobs.ClassNotDeactivated, jobs.ClassUnverifiedEmail,
		jobs.ClassNotFound, jobs.ClassRejected, jobs.ClassTransient, jobs.ClassFatal} {
		valid[c] = true
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter, contentType string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("Content-Type", contentType)
		got := stytch.Classify(status, h, body)
		if !valid[got.Class] {
			t.Fatalf("Classify(%d, %q) Class = %q, want one of the 7 classes", status, body, got.Class)
		}
		if status >= 200 && status < 300 && (got.Class == jobs.ClassFatal || got.Class == jobs.ClassNotFound) {
			t.Fatalf("Classify(%d, %q) Class = %q, want a 2xx never fatal or not_found", status, body, got.Class)
		}
		if got.HTTPStatus != status || !got.Called || got.RetryAfter < 0 {
			t.Fatalf("Classify(%d) = {HTTPStatus %d, Called %v, RetryAfter %v}, want {%d, true, >= 0}", status, got.HTTPStatus, got.Called, got.RetryAfter, status)
		}
		if !utf8.ValidString(got.Message) || strings.ContainsFunc(got.Message, unicode.IsControl) {
			t.Fatalf("Classify(%d, %q) Message = %q, want valid UTF-8 without control characters", status, body, got.Message)
		}
	})
}
