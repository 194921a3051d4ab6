// This file tests Client over real HTTP: every scripted ZITADEL answer, the request it sends,
// the rows it refuses, transport failures, Check, and that no secret reaches a message; and
// Classify on answers beyond the shared table, fuzzed too.

package zitadel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"reactivator/internal/fakeidp"
	"reactivator/internal/httpapi"
	"reactivator/internal/version"
	"reactivator/jobs"
)

// testPAT is the personal access token of the tests; no message may contain it.
const testPAT = "pat-SECRET-6r2JkXUuO1m3xVh5wQ9dN7bC"

// userID is a real-looking ZITADEL user id.
const userID = "69629012906488334"

// newPATClient returns a Client with testPAT against srv, configured by mod.
func newPATClient(t *testing.T, srv *httptest.Server, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: srv.URL, Token: testPAT}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New(%v) = %v", cfg, err)
	}
	return c
}

// assertNoSecret fails when s contains any of secrets.
func assertNoSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, v := range secrets {
		if v != "" && strings.Contains(s, v) {
			t.Errorf("%s = %q, contains a secret", what, s)
		}
	}
}

// answerCase writes a scripted answer.
func answerCase(w http.ResponseWriter, c fakeidp.Case) {
	for k, v := range c.Header {
		w.Header().Set(k, v)
	}
	ct := c.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(c.Status)
	_, _ = io.WriteString(w, c.Body)
}

func TestReactivateCases(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tc := range fakeidp.Cases {
		if tc.Provider != jobs.Zitadel || tc.Op != "" {
			continue
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if body, ok := fakeidp.ZitadelProbeAnswer(tc.Perms, r.URL.Path, r.Header.Get("X-Zitadel-Orgid")); ok {
					answerCase(w, fakeidp.Case{Status: 200, Body: body})
					return
				}
				calls.Add(1)
				answerCase(w, tc)
			}))
			defer srv.Close()
			c := newPATClient(t, srv, func(c *Config) { c.API = tc.API })
			row := jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID}
			if tc.RowOrg {
				row.OrgID = "400907376431008806"
			}
			before := time.Now()
			got := c.Reactivate(t.Context(), row)
			after := time.Now()

			if got.Class != tc.Want {
				t.Errorf("Reactivate(%s) class = %q (%s), want %q", tc.Name, got.Class, got.Message, tc.Want)
			}
			if wantReason := map[bool]string{true: jobs.ReasonNoPermissionInOrg}[tc.Want == jobs.ClassRejected && tc.Perms != ""]; got.Reason != wantReason {
				t.Errorf("Reactivate(%s) reason = %q, want %q", tc.Name, got.Reason, wantReason)
			}
			if tc.API == APIv1 && tc.Want == jobs.ClassNotFound && !tc.RowOrg && !strings.Contains(got.Message, "org_id") {
				t.Errorf("Reactivate(%s) message = %q, want the hint to give the row's org_id", tc.Name, got.Message)
			}
			if tc.Perms != "" && got.Class == jobs.ClassFatal && (!strings.Contains(got.Message, "IAM_USER_MANAGER") || strings.Contains(got.Message, "ZITADEL_URL")) {
				t.Errorf("Reactivate(%s) message = %q, want the roles to grant, not the URL", tc.Name, got.Message)
			}
			if tc.WantType != "" && got.ErrorType != tc.WantType {
				t.Errorf("Reactivate(%s) error type = %q, want %q", tc.Name, got.ErrorType, tc.WantType)
			}
			if got.HTTPStatus != tc.Status {
				t.Errorf("Reactivate(%s) status = %d, want %d", tc.Name, got.HTTPStatus, tc.Status)
			}
			if want := tc.Header["X-Request-Id"]; got.RequestID != want {
				t.Errorf("Reactivate(%s) request id = %q, want %q", tc.Name, got.RequestID, want)
			}
			ra := tc.Header["Retry-After"]
			if hi, lo := httpapi.ParseRetryAfter(ra, before), httpapi.ParseRetryAfter(ra, after); got.RetryAfter > hi || got.RetryAfter < lo {
				t.Errorf("Reactivate(%s) retry after = %v, want between %v and %v", tc.Name, got.RetryAfter, lo, hi)
			}
			if !got.Called || calls.Load() != 1 {
				t.Errorf("Reactivate(%s) called = %v with %d requests, want true with 1", tc.Name, got.Called, calls.Load())
			}
			if wantAmb := tc.Status >= 500; got.Ambiguous != wantAmb {
				t.Errorf("Reactivate(%s) ambiguous = %v, want %v", tc.Name, got.Ambiguous, wantAmb)
			}
			if got.Class != jobs.ClassReactivated && got.Message == "" {
				t.Errorf("Reactivate(%s) message is empty, want a reason", tc.Name)
			}
			assertNoSecret(t, "Reactivate message", got.Message, testPAT)
		})
	}
	if n < 20 {
		t.Fatalf("fakeidp.Cases has %d ZITADEL cases, want the full table", n)
	}
}

// seen is what a test server saw of one request.
type seen struct {
	method, path, rawPath, body string
	header                      http.Header
}

// recorder answers ZITADEL's success and records every request.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(), body: string(b), header: r.Header.Clone()})
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", fakeidp.ZitadelRequestID)
	_, _ = io.WriteString(w, fakeidp.ZitadelSuccess)
}

func (rec *recorder) all() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

func TestReactivateRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		api        string
		defaultOrg string
		row        jobs.Row
		wantPath   string
		wantOrg    string // "" means no x-zitadel-orgid header
	}{
		{name: "v2 default api", row: jobs.Row{UserID: userID}, wantPath: "/v2/users/" + userID + "/reactivate"},
		{name: "v2 explicit", api: "v2", row: jobs.Row{UserID: userID}, wantPath: "/v2/users/" + userID + "/reactivate"},
		{name: "v2 sends no org header", api: "v2", defaultOrg: "111", row: jobs.Row{UserID: userID, OrgID: "222"}, wantPath: "/v2/users/" + userID + "/reactivate"},
		{name: "v1 org from row", api: "v1", defaultOrg: "111", row: jobs.Row{UserID: userID, OrgID: "222"}, wantPath: "/management/v1/users/" + userID + "/_reactivate", wantOrg: "222"},
		{name: "v1 org from default", api: "v1", defaultOrg: "111", row: jobs.Row{UserID: userID}, wantPath: "/management/v1/users/" + userID + "/_reactivate", wantOrg: "111"},
		{name: "v1 no org", api: "v1", row: jobs.Row{UserID: userID}, wantPath: "/management/v1/users/" + userID + "/_reactivate"},
		{name: "v2 chosen id with reserved characters", row: jobs.Row{UserID: "ada:lovelace@acme;x=1&y+z"}, wantPath: "/v2/users/" + url.PathEscape("ada:lovelace@acme;x=1&y+z") + "/reactivate"},
		{name: "v2 non-ascii id", row: jobs.Row{UserID: "jürgen-ß"}, wantPath: "/v2/users/j%C3%BCrgen-%C3%9F/reactivate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c := newPATClient(t, srv, func(c *Config) { c.API, c.DefaultOrgID = tc.api, tc.defaultOrg })
			tc.row.Provider, tc.row.Line = jobs.Zitadel, 2
			res := c.Reactivate(t.Context(), tc.row)
			if res.Class != jobs.ClassReactivated {
				t.Fatalf("Reactivate(%+v) = %+v, want reactivated", tc.row, res)
			}
			reqs := rec.all()
			if len(reqs) != 1 {
				t.Fatalf("Reactivate(%+v) made %d requests, want 1", tc.row, len(reqs))
			}
			got := reqs[0]
			if got.method != http.MethodPost {
				t.Errorf("method = %s, want POST", got.method)
			}
			if got.rawPath != tc.wantPath {
				t.Errorf("escaped path = %q, want %q", got.rawPath, tc.wantPath)
			}
			if wantDecoded, _ := url.PathUnescape(tc.wantPath); got.path != wantDecoded || !strings.Contains(got.path, "/"+tc.row.UserID+"/") {
				t.Errorf("path = %q, want %q, the id as one segment", got.path, wantDecoded)
			}
			if got.body != "{}" {
				t.Errorf("body = %q, want {}", got.body)
			}
			orgs, present := got.header["X-Zitadel-Orgid"]
			switch {
			case tc.wantOrg == "" && present:
				t.Errorf("x-zitadel-orgid = %q, want no header", orgs)
			case tc.wantOrg != "" && (len(orgs) != 1 || orgs[0] != tc.wantOrg):
				t.Errorf("x-zitadel-orgid = %q, want %q", orgs, tc.wantOrg)
			}
			for h, want := range map[string]string{
				"Authorization": "Bearer " + testPAT,
				"User-Agent":    version.UserAgent(),
				"Content-Type":  "application/json",
				"Accept":        "application/json",
			} {
				if v := got.header.Get(h); v != want {
					t.Errorf("header %s = %q, want %q", h, v, want)
				}
			}
			if res.RequestID != fakeidp.ZitadelRequestID {
				t.Errorf("request id = %q, want %q", res.RequestID, fakeidp.ZitadelRequestID)
			}
		})
	}
}

func TestReactivateRefusesBadIDs(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, fakeidp.ZitadelSuccess)
	}))
	defer srv.Close()
	for _, api := range []string{"v1", "v2"} {
		c := newPATClient(t, srv, func(c *Config) { c.API = api })
		for name, row := range map[string]jobs.Row{
			"empty":              {UserID: ""},
			"slash":              {UserID: "/"},
			"inner slash":        {UserID: "123/456"},
			"question mark":      {UserID: "?"},
			"query":              {UserID: "123?x=1"},
			"hash":               {UserID: "#"},
			"escaped slash":      {UserID: "%2F"},
			"dot dot slash":      {UserID: "../"},
			"dot dot":            {UserID: ".."},
			"dot":                {UserID: "."},
			"backslash":          {UserID: `..\x`},
			"space":              {UserID: "123 456"},
			"only whitespace":    {UserID: " "},
			"tab":                {UserID: "\t123"},
			"newline":            {UserID: "123\n"},
			"nul":                {UserID: "123\x00"},
			"del":                {UserID: "123\x7f"},
			"next line":          {UserID: "123\u0085"},
			"no-break space":     {UserID: "123\u00a0"},
			"invalid utf-8":      {UserID: "123\xff"},
			"too long":           {UserID: strings.Repeat("1", 201)},
			"bad org id":         {UserID: userID, OrgID: "4009/07"},
			"org id with a CRLF": {UserID: userID, OrgID: "1\r\nX-Evil: 1"},
			"stytch row":         {UserID: userID, Provider: jobs.Stytch},
		} {
			if row.Provider == "" {
				row.Provider = jobs.Zitadel
			}
			row.Line = 2
			got := c.Reactivate(t.Context(), row)
			if got.Class != jobs.ClassRejected || got.Called || got.Message == "" {
				t.Errorf("%s: Reactivate(%s %+q) = %+v, want rejected, not called, with a message", api, name, row.UserID, got)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

func TestReactivateTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select { // never answers; ends when the client gives up or the test does
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newPATClient(t, srv, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	got := c.Reactivate(t.Context(), jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID})
	if got.Class != jobs.ClassTransient || !got.Ambiguous || !got.Called || got.HTTPStatus != 0 {
		t.Errorf("Reactivate(timeout) = %+v, want transient, ambiguous, called, no status", got)
	}
	assertNoSecret(t, "Reactivate message", got.Message, testPAT)
}

func TestReactivateConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(t.Context(), Config{BaseURL: "http://" + addr, Token: testPAT})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Reactivate(t.Context(), jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID})
	if got.Class != jobs.ClassTransient || got.Ambiguous || got.HTTPStatus != 0 {
		t.Errorf("Reactivate(refused) = %+v, want transient, not ambiguous", got)
	}
	if err := c.Check(t.Context()); err == nil || errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Check(refused) = %v, want a non-fatal error", err)
	}
}

func TestReactivateScrubsEchoedSecrets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		// A server that quotes the request's Authorization header in its error.
		fmt.Fprintf(w, `{"code":3,"message":"cannot use %s","details":[{"id":"X-1","message":"cannot use %s"}]}`,
			r.Header.Get("Authorization"), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := newPATClient(t, srv, nil)
	got := c.Reactivate(t.Context(), jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID})
	if got.Class != jobs.ClassRejected || !strings.Contains(got.Message, "[redacted]") {
		t.Errorf("Reactivate(echo) = %+v, want rejected with [redacted]", got)
	}
	assertNoSecret(t, "Reactivate message", got.Message, testPAT)
}

func TestReactivateCallerCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&recorder{})
	defer srv.Close()
	c := newPATClient(t, srv, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got := c.Reactivate(ctx, jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID})
	if got.Class != jobs.ClassTransient {
		t.Errorf("Reactivate(cancelled ctx) = %+v, want transient", got)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	me := fakeidp.Case{Status: 200, Header: map[string]string{"X-Request-Id": fakeidp.ZitadelRequestID},
		Body: `{"user":{"id":"400907376431008806","state":"USER_STATE_ACTIVE","userName":"reactivator"}}`}
	tests := []struct {
		name      string
		answer    fakeidp.Case
		wantErr   bool
		wantFatal bool
		wantIn    string
		perms     string
		wantScope string
	}{
		{name: "ok", answer: me, perms: fakeidp.PermsSomewhere, wantScope: "organisation 401899638682091521"},
		{name: "ok instance-wide", answer: me, perms: fakeidp.PermsInstance, wantScope: "every organisation"},
		{name: "no role", answer: me, perms: fakeidp.PermsNoRole, wantErr: true, wantFatal: true, wantIn: "ORG_USER_MANAGER"},
		{name: "viewer", answer: me, perms: fakeidp.PermsNowhere, wantErr: true, wantFatal: true, wantIn: "IAM_USER_MANAGER"},
		{name: "no token", answer: fakeidp.Case{Status: 401, Body: fakeidp.ZitadelNoAuth}, wantErr: true, wantFatal: true, wantIn: "ZITADEL_TOKEN"},
		{name: "bad token", answer: fakeidp.Case{Status: 401, Body: fakeidp.ZitadelError(16, "Errors.Token.Invalid", "AUTH-7fs1e")}, wantErr: true, wantFatal: true, wantIn: "ZITADEL_TOKEN"},
		{name: "wrong host", answer: fakeidp.Case{Status: 404, Body: fakeidp.ZitadelWrongHost}, wantErr: true, wantFatal: true, wantIn: "ZITADEL_URL"},
		{name: "html 200 of another site", answer: fakeidp.Case{Status: 200, ContentType: "text/html", Body: "<html>welcome</html>"}, wantErr: true, wantFatal: true, wantIn: "ZITADEL_URL"},
		{name: "json 200 without user", answer: fakeidp.Case{Status: 200, Body: `{"ok":true}`}, wantErr: true, wantFatal: true, wantIn: "ZITADEL_URL"},
		{name: "unavailable", answer: fakeidp.Case{Status: 503, Body: fakeidp.ZitadelError(14, "Errors.Internal", "QUERY-Dh42f")}, wantErr: true},
		{name: "rate limited", answer: fakeidp.Case{Status: 429, Body: fakeidp.ZitadelError(8, "Errors.Quota.RequestsExhausted", "QUOTA-vjAy8")}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			var probes atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if body, ok := fakeidp.ZitadelProbeAnswer(tc.perms, r.URL.Path, r.Header.Get("X-Zitadel-Orgid")); ok {
					if r.Method != http.MethodPost {
						t.Errorf("probe %s %s, want POST", r.Method, r.URL.Path)
					}
					probes.Add(1)
					answerCase(w, fakeidp.Case{Status: 200, Body: body})
					return
				}
				rec.mu.Lock()
				rec.reqs = append(rec.reqs, seen{method: r.Method, rawPath: r.URL.EscapedPath(), header: r.Header.Clone()})
				rec.mu.Unlock()
				answerCase(w, tc.answer)
			}))
			defer srv.Close()
			c := newPATClient(t, srv, nil)
			err := c.Check(t.Context())
			if (tc.perms != "") != (probes.Load() > 0) {
				t.Errorf("Check() made %d permission look-ups, want them only after users/me answered", probes.Load())
			}
			if !strings.Contains(c.Scope(), tc.wantScope) {
				t.Errorf("Scope() = %q, want it to contain %q", c.Scope(), tc.wantScope)
			}
			if err != nil && tc.perms != "" && strings.Contains(err.Error(), "ZITADEL_URL") {
				t.Errorf("Check() = %q, a permission problem must not point at ZITADEL_URL", err)
			}
			if (err != nil) != tc.wantErr || errors.Is(err, jobs.ErrFatal) != tc.wantFatal {
				t.Fatalf("Check() = %v, want error %v, fatal %v", err, tc.wantErr, tc.wantFatal)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("Check() = %q, want it to mention %q", err, tc.wantIn)
			}
			if err != nil {
				assertNoSecret(t, "Check error", err.Error(), testPAT)
			}
			reqs := rec.all()
			if len(reqs) != 1 || reqs[0].method != http.MethodGet || reqs[0].rawPath != "/auth/v1/users/me" || reqs[0].header.Get("Authorization") != "Bearer "+testPAT {
				t.Errorf("Check() sent %+v, want one GET /auth/v1/users/me with the bearer", reqs)
			}
		})
	}
}

func ExampleClient_Reactivate() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "h1n0i01ksdua7m2beubg")
		_, _ = io.WriteString(w, `{"details":{"sequence":"4","changeDate":"2026-11-23T17:37:45.141082Z","resourceOwner":"400907376431008806"}}`)
	}))
	defer srv.Close()
	c, err := New(context.Background(), Config{BaseURL: srv.URL, Token: "a-personal-access-token"})
	if err != nil {
		fmt.Println(err)
		return
	}
	res := c.Reactivate(context.Background(), jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: "69629012906488334"})
	fmt.Println(res.Class, res.HTTPStatus, res.RequestID)
	// Output: reactivated 200 h1n0i01ksdua7m2beubg
}

func TestClassify(t *testing.T) {
	t.Parallel()
	html := func(s int) string { return strings.ReplaceAll(fakeidp.ProxyPage, "%d", http.StatusText(s)) }
	tests := []struct {
		name          string
		api           string
		rowOrg        bool
		status        int
		ct            string
		body          string
		want          jobs.Class
		wantType      string
		wantAmbiguous bool
		wantIn        string
	}{
		{name: "2xx html is not a confirmation", api: "v2", status: 200, ct: "text/html", body: "<html>welcome</html>", want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "204 empty is not a confirmation", api: "v2", status: 204, want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "2xx error body is not a confirmation", api: "v1", status: 200, body: fakeidp.ZitadelError(9, "User is not inactive", "COMMAND-6M0sf"), want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "2xx connect body", api: "v2", status: 200, body: `{"details":{"sequence":"12","changeDate":"2026-11-23T17:37:45Z","resourceOwner":"1"}}`, want: jobs.ClassReactivated},
		{name: "numeric string code", api: "v2", status: 400, body: `{"code":"9","details":[{"id":"COMMAND-6M0sf"}]}`, want: jobs.ClassNotDeactivated, wantType: "COMMAND-6M0sf"},
		{name: "upper case connect code", api: "v2", status: 400, body: `{"code":"FAILED_PRECONDITION","details":[{"debug":{"id":"COMMAND-s5qqcz97hf"}}]}`, want: jobs.ClassNotDeactivated, wantType: "COMMAND-s5qqcz97hf"},
		{name: "connect not found", api: "v2", status: 404, body: `{"code":"not_found","message":"User could not be found (COMMAND-9hy5kzbuk6)","details":[{"type":"zitadel.v1.ErrorDetail","debug":{"id":"COMMAND-9hy5kzbuk6"}}]}`, want: jobs.ClassNotFound, wantType: "COMMAND-9hy5kzbuk6"},
		{name: "connect unauthenticated as 400", api: "v2", status: 400, body: `{"code":"unauthenticated","message":"auth header missing"}`, want: jobs.ClassFatal},
		{name: "known id with the message in another language", api: "v1", status: 400, body: fakeidp.ZitadelError(9, "Benutzer ist nicht inaktiv", "COMMAND-6M0sf"), want: jobs.ClassNotDeactivated, wantType: "COMMAND-6M0sf"},
		{name: "message text never decides", api: "v2", status: 400, body: fakeidp.ZitadelError(9, "User is not inactive", "COMMAND-new1"), want: jobs.ClassRejected, wantType: "COMMAND-new1"},
		{name: "not found text without id is a wrong host", api: "v2", status: 404, body: `{"code":5,"message":"User could not be found (COMMAND-9hy5kzbuk6)"}`, want: jobs.ClassFatal, wantIn: "ZITADEL_URL"},
		{name: "404 with a not-inactive id", api: "v2", status: 404, body: fakeidp.ZitadelError(5, "x", "COMMAND-6M0sf"), want: jobs.ClassFatal},
		{name: "id of the wrong type is skipped", api: "v2", status: 400, body: `{"code":9,"details":[{"id":42},{"id":"COMMAND-s5qqcz97hf"}]}`, want: jobs.ClassNotDeactivated, wantType: "COMMAND-s5qqcz97hf"},
		{name: "message of the wrong type is skipped", api: "v2", status: 404, body: `{"code":5,"message":7,"details":[{"id":"COMMAND-4M0sd","message":"gone"}]}`, want: jobs.ClassNotFound, wantType: "COMMAND-4M0sd"},
		{name: "details not a list", api: "v2", status: 400, body: `{"code":9,"details":"COMMAND-6M0sf"}`, want: jobs.ClassRejected},
		{name: "v2 unknown org with row org is still fatal", api: "v2", rowOrg: true, status: 403, body: fakeidp.ZitadelError(7, "Organisation doesn't exist", "AUTH-Bs7Ds"), want: jobs.ClassFatal, wantIn: "user.write"},
		{name: "v1 html 403 for the caller's org", api: "v1", status: 403, ct: "text/html", body: html(403), want: jobs.ClassFatal},
		{name: "v1 html 403 for a row's org", api: "v1", rowOrg: true, status: 403, ct: "text/html", body: html(403), want: jobs.ClassRejected},
		{name: "unknown default org names ZITADEL_ORG_ID", api: "v1", status: 403, body: fakeidp.ZitadelError(7, "Organisation doesn't exist", "AUTH-Bs7Ds"), want: jobs.ClassFatal, wantIn: "ZITADEL_ORG_ID"},
		{name: "401 advice", api: "v2", status: 401, body: fakeidp.ZitadelNoAuth, want: jobs.ClassFatal, wantIn: checkCredentialsAdvice},
		{name: "501 unimplemented", api: "v2", status: 501, body: `{"code":12,"message":"unknown service zitadel.user.v2.UserService"}`, want: jobs.ClassFatal, wantIn: "ZITADEL_API"},
		{name: "408 request timeout", api: "v2", status: 408, ct: "text/html", body: html(408), want: jobs.ClassTransient},
		{name: "504 gateway timeout", api: "v2", status: 504, ct: "text/html", body: html(504), want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "code 14 behind a 400", api: "v2", status: 400, body: `{"code":14,"message":"unavailable"}`, want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "409 already exists", api: "v2", status: 409, body: fakeidp.ZitadelError(6, "exists", "COMMAND-x1"), want: jobs.ClassRejected, wantType: "COMMAND-x1"},
		{name: "html 400", api: "v1", status: 400, ct: "text/html", body: html(400), want: jobs.ClassRejected, wantIn: "text/html"},
		{name: "status 0", api: "v2", status: 0, want: jobs.ClassFatal},
		{name: "long message is clipped but keeps the advice", api: "v2", status: 404, body: `{"code":5,"message":"` + strings.Repeat("é", 5000) + `"}`, want: jobs.ClassFatal, wantIn: "ZITADEL_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.ct != "" {
				h.Set("Content-Type", tc.ct)
			}
			got := Classify(tc.api, tc.rowOrg, tc.status, h, []byte(tc.body))
			if got.Class != tc.want || got.Ambiguous != tc.wantAmbiguous {
				t.Errorf("Classify(%s) = %q ambiguous %v (%s), want %q ambiguous %v", tc.name, got.Class, got.Ambiguous, got.Message, tc.want, tc.wantAmbiguous)
			}
			if tc.wantType != "" && got.ErrorType != tc.wantType {
				t.Errorf("Classify(%s) error type = %q, want %q", tc.name, got.ErrorType, tc.wantType)
			}
			if !strings.Contains(got.Message, tc.wantIn) {
				t.Errorf("Classify(%s) message = %q, want it to contain %q", tc.name, got.Message, tc.wantIn)
			}
			if n := utf8.RuneCountInString(got.Message); n > maxMessageRunes {
				t.Errorf("Classify(%s) message has %d runes, want at most %d", tc.name, n, maxMessageRunes)
			}
		})
	}
}

// classes is every class a client may return.
var classes = map[jobs.Class]bool{
	jobs.ClassReactivated: true, jobs.ClassNotDeactivated: true, jobs.ClassUnverifiedEmail: true,
	jobs.ClassNotFound: true, jobs.ClassRejected: true, jobs.ClassTransient: true, jobs.ClassFatal: true,
}

func FuzzClassify(f *testing.F) {
	for _, c := range fakeidp.Cases {
		if c.Provider == jobs.Zitadel && c.Op == "" {
			f.Add(c.API, c.RowOrg, c.Status, c.ContentType, c.Header["Retry-After"], []byte(c.Body))
		}
	}
	f.Add("v1", true, 200, "", "", []byte(`{"details":[]}`))
	f.Add("v2", false, 404, "", "x", []byte(`{"code":"not_found","details":[{"debug":{"id":5}}]}`))
	f.Add("v3", false, 999, "", "-1", []byte(`{"code":1e400}`))
	f.Add(APIv1, true, 404, "", "", []byte(`{"code":7,"details":[{"id":"`+orgNotFoundID+`"}]}`))
	f.Add(APIv2, true, 404, "", "", []byte(`{"code":7,"details":[{"id":"`+orgNotFoundID+`"}]}`))
	f.Fuzz(func(t *testing.T, api string, rowOrg bool, status int, ct, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		h.Set("Retry-After", retryAfter)
		h.Set("X-Request-Id", "req-1")
		got := Classify(api, rowOrg, status, h, body)
		if !classes[got.Class] {
			t.Fatalf("Classify(%d, %q) class = %q, want one of the seven", status, body, got.Class)
		}
		if status >= 200 && status < 300 && got.Class == jobs.ClassFatal {
			t.Fatalf("Classify(%d, %q) = fatal, want a 2xx never fatal", status, body)
		}
		if got.Class == jobs.ClassReactivated && (status < 200 || status >= 300) {
			t.Fatalf("Classify(%d, %q) = reactivated, want only a 2xx reactivated", status, body)
		}
		// A 404 is not_found only for a user-not-found id, or, on v1 with the row's own org_id,
		// for the id of an organisation that does not exist.
		orgMissing := api == APIv1 && rowOrg && bytes.Contains(body, []byte(orgNotFoundID))
		if got.Class == jobs.ClassNotFound && status == http.StatusNotFound && !orgMissing &&
			!bytes.Contains(body, []byte("COMMAND-9hy5kzbuk6")) && !bytes.Contains(body, []byte("COMMAND-4M0sd")) && !bytes.Contains(body, []byte("COMMAND-k2unb")) {
			t.Fatalf("Classify(%s, rowOrg %v, 404, %q) = not_found without a user-not-found id", api, rowOrg, body)
		}
		if got.HTTPStatus != status || got.RequestID != "req-1" || !got.Called || got.RetryAfter < 0 {
			t.Fatalf("Classify(%d, %q) = %+v, want status, request id, called kept and no negative retry", status, body, got)
		}
		if !utf8.ValidString(got.Message) || utf8.RuneCountInString(got.Message) > maxMessageRunes {
			t.Fatalf("Classify(%d, %q) message %q is not valid UTF-8 of at most %d runes", status, body, got.Message, maxMessageRunes)
		}
	})
}
