// This file tests the machinery both fakes share: faults, the rate limit, call accounting and
// scripted answers, run against each fake over real HTTP.

package fakeidp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"reactivator/jobs"
)

// answer is what a client saw of one call.
type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

// call sends one request and reads the whole answer.
func call(t *testing.T, client *http.Client, method, url string, header map[string]string, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, url, err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

// plain is a client that shows redirects instead of following them.
var plain = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// serve serves h for the test's duration.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	base, stop := Serve(h)
	t.Cleanup(stop)
	return base
}

// testClock is a settable clock for the histogram, the rate limit and token lifetimes.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 11, 23, 17, 37, 45, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Now() time.Time          { return c.now() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// harness drives one fake's reactivate endpoint for one account, so the shared machinery is
// tested against every fake the same way.
type harness struct {
	name string
	f    interface {
		http.Handler
		SetFaults(Faults)
		SetRateLimit(RateLimit)
		Calls(string) int
		TotalCalls() int
		Histogram() map[int64]int
		MaxPerSecond() int
		Count429() int
		LastPaths() []string
	}
	// key names the account for Calls and Script.
	key string
	// reactivate calls the account's reactivate endpoint.
	reactivate func(t *testing.T, client *http.Client) answer
	// deactivate puts the account back in the state reactivation needs.
	deactivate func()
	// applied reports whether the account was reactivated.
	applied func() bool
	// script queues verbatim answers for the account.
	script func(answers ...Case)
	// provider and api select the table's cases this harness's endpoint answers.
	provider jobs.Provider
	api      string
}

const (
	tOrg     = "organization-test-00000000-0000-4000-8000-000000000001"
	tMember  = "member-test-00000000-0000-4000-8000-000000000002"
	tProject = "project-test-00000000-0000-4000-8000-000000000003"
	tSecret  = "secret-test-abc"
	tUser    = "400907454377888806"
	tZOrg    = "400907376431008806"
	tPAT     = "pat-of-the-service-user"
)

func stytchHarness(t *testing.T, clock *testClock) *harness {
	s := NewStytch(tProject, tSecret)
	s.SetClock(clock)
	s.AddOrg(tOrg, "acme")
	s.AddMember(tOrg, tMember, StytchDeleted, true)
	url := serve(t, s) + "/v1/b2b/organizations/" + tOrg + "/members/" + tMember + "/reactivate"
	return &harness{
		name: "stytch", f: s, key: tOrg + "/" + tMember, provider: jobs.Stytch,
		reactivate: func(t *testing.T, client *http.Client) answer {
			return call(t, client, http.MethodPut, url, map[string]string{"Authorization": basic(tProject, tSecret)}, "{}")
		},
		deactivate: func() { s.AddMember(tOrg, tMember, StytchDeleted, true) },
		applied:    func() bool { return s.Status(tOrg, tMember) == StytchActive },
		script:     func(answers ...Case) { s.Script(tOrg, tMember, answers...) },
	}
}

func zitadelHarness(t *testing.T, clock *testClock, api string) *harness {
	z := NewZitadel("127.0.0.1")
	z.SetClock(clock)
	z.AddToken(tPAT, tZOrg)
	z.AddUser(tUser, tZOrg, ZitadelInactive)
	url := serve(t, z) + zitadelPath(api, tUser)
	return &harness{
		name: "zitadel_" + api, f: z, key: tUser, provider: jobs.Zitadel, api: api,
		reactivate: func(t *testing.T, client *http.Client) answer {
			return call(t, client, http.MethodPost, url, map[string]string{"Authorization": "Bearer " + tPAT}, "{}")
		},
		deactivate: func() { z.AddUser(tUser, tZOrg, ZitadelInactive) },
		applied:    func() bool { return z.State(tUser) == ZitadelActive },
		script:     func(answers ...Case) { z.Script(tUser, answers...) },
	}
}

func zitadelPath(api, escapedID string) string {
	if api == "v1" {
		return "/management/v1/users/" + escapedID + "/_reactivate"
	}
	return "/v2/users/" + escapedID + "/reactivate"
}

func harnesses(t *testing.T, clock *testClock) []*harness {
	return []*harness{stytchHarness(t, clock), zitadelHarness(t, clock, "v1"), zitadelHarness(t, clock, "v2")}
}

func basic(user, pass string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func TestDropAppliesThenClosesTheConnection(t *testing.T) {
	t.Parallel()
	for _, h := range harnesses(t, newTestClock()) {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			h.f.SetFaults(Faults{RateDrop: 1})
			a := h.reactivate(t, plain)
			if a.err == nil {
				t.Fatalf("reactivate with RateDrop 1 = %d %s, want a transport error", a.status, a.body)
			}
			if !errors.Is(a.err, io.EOF) && !errors.Is(a.err, io.ErrUnexpectedEOF) && !isReset(a.err) {
				t.Errorf("reactivate with RateDrop 1: error %v, want EOF or connection reset", a.err)
			}
			if !h.applied() {
				t.Errorf("reactivate with RateDrop 1 did not apply the change")
			}
			if got := h.f.Calls(h.key); got != 1 {
				t.Errorf("Calls(%q) = %d, want 1", h.key, got)
			}
		})
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || strings.Contains(err.Error(), "connection reset")
}

func TestStallOutlastsTheClientTimeout(t *testing.T) {
	t.Parallel()
	for _, h := range harnesses(t, newTestClock()) {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			h.f.SetFaults(Faults{RateStall: 1, Stall: time.Hour})
			a := h.reactivate(t, &http.Client{Timeout: 100 * time.Millisecond})
			var ne net.Error
			if !errors.As(a.err, &ne) || !ne.Timeout() {
				t.Fatalf("reactivate with RateStall 1 = %d %v, want a client timeout", a.status, a.err)
			}
			if !h.applied() {
				t.Errorf("reactivate with RateStall 1 did not apply the change before stalling")
			}
		})
	}
}

func Test5xxDoesNotApply(t *testing.T) {
	t.Parallel()
	for _, h := range harnesses(t, newTestClock()) {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			h.f.SetFaults(Faults{Rate5xx: 1})
			a := h.reactivate(t, plain)
			if a.status < 500 {
				t.Errorf("reactivate with Rate5xx 1 = %d %v, want 5xx", a.status, a.err)
			}
			if h.applied() {
				t.Errorf("reactivate with Rate5xx 1 applied the change")
			}
			h.f.SetFaults(Faults{})
			if a := h.reactivate(t, plain); a.status != http.StatusOK {
				t.Errorf("reactivate after SetFaults(Faults{}) = %d %s, want 200", a.status, a.body)
			}
			if got := h.f.Calls(h.key); got != 2 {
				t.Errorf("Calls(%q) = %d, want 2", h.key, got)
			}
		})
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	run := func(h *harness) string {
		h.f.SetFaults(Faults{Rate5xx: 0.5, Seed: 42})
		var seq strings.Builder
		for range 32 {
			h.deactivate()
			if a := h.reactivate(t, plain); a.status >= 500 {
				seq.WriteByte('5')
			} else {
				seq.WriteByte('.')
			}
		}
		return seq.String()
	}
	first, second := run(stytchHarness(t, clock)), run(stytchHarness(t, clock))
	if first != second {
		t.Errorf("statuses with Seed 42 = %s then %s, want the same sequence", first, second)
	}
	if !strings.Contains(first, "5") || !strings.Contains(first, ".") {
		t.Errorf("statuses with Rate5xx 0.5 = %s, want both 5xx and answers", first)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	for _, retryAfter := range []bool{false, true} {
		clock := newTestClock()
		for _, h := range harnesses(t, clock) {
			t.Run(fmt.Sprintf("%s/retry_after=%v", h.name, retryAfter), func(t *testing.T) {
				h.f.SetRateLimit(RateLimit{PerSecond: 1, Burst: 1, RetryAfter: retryAfter})
				if a := h.reactivate(t, plain); a.status != http.StatusOK {
					t.Fatalf("first reactivate = %d %s, want 200", a.status, a.body)
				}
				h.deactivate()
				a := h.reactivate(t, plain)
				if a.status != http.StatusTooManyRequests {
					t.Fatalf("second reactivate in the same instant = %d %s, want 429", a.status, a.body)
				}
				if got, want := a.header.Get("Retry-After"), map[bool]string{false: "", true: "1"}[retryAfter]; got != want {
					t.Errorf("429 Retry-After = %q, want %q", got, want)
				}
				if h.applied() {
					t.Errorf("a rate-limited reactivate applied the change")
				}
				if got := h.f.Count429(); got != 1 {
					t.Errorf("Count429() = %d, want 1", got)
				}
				if got := h.f.Calls(h.key); got != 1 {
					t.Errorf("Calls(%q) = %d, want 1 (a 429 does not reach the account)", h.key, got)
				}
				clock.advance(time.Second)
				if a := h.reactivate(t, plain); a.status != http.StatusOK {
					t.Errorf("reactivate a second later = %d %s, want 200", a.status, a.body)
				}
				h.f.SetRateLimit(RateLimit{})
				for range 3 {
					h.deactivate()
					if a := h.reactivate(t, plain); a.status != http.StatusOK {
						t.Errorf("reactivate without a limit = %d %s, want 200", a.status, a.body)
					}
				}
			})
		}
	}
}

func TestHistogramCountsEveryRequest(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	for _, h := range harnesses(t, clock) {
		t.Run(h.name, func(t *testing.T) {
			h.f.SetRateLimit(RateLimit{PerSecond: 2, Burst: 2})
			start := clock.now().Unix()
			perSecond := []int{1, 4, 2}
			for _, n := range perSecond {
				for range n {
					h.reactivate(t, plain)
				}
				clock.advance(time.Second)
			}
			hist, sum := h.f.Histogram(), 0
			for i, n := range perSecond {
				if got := hist[start+int64(i)]; got != n {
					t.Errorf("Histogram()[start+%d] = %d, want %d", i, got, n)
				}
				sum += n
			}
			if got := h.f.TotalCalls(); got != sum {
				t.Errorf("TotalCalls() = %d, want %d (the histogram's sum)", got, sum)
			}
			if got := h.f.MaxPerSecond(); got != 4 {
				t.Errorf("MaxPerSecond() = %d, want 4", got)
			}
			if got := h.f.Count429(); got != 2 {
				t.Errorf("Count429() = %d, want 2 (4 calls in a second of 2 tokens)", got)
			}
		})
	}
}

func TestScriptedAnswersAreVerbatim(t *testing.T) {
	t.Parallel()
	for _, h := range harnesses(t, newTestClock()) {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			n := 0
			for _, c := range Cases {
				if c.Op != "" || c.Provider != h.provider || c.API != h.api && h.api != "" {
					continue
				}
				n++
				h.script(c)
				a := h.reactivate(t, plain)
				if a.err != nil {
					t.Fatalf("%s: scripted reactivate: %v", c.Name, a.err)
				}
				if a.status != c.Status || a.body != c.Body {
					t.Errorf("%s: scripted reactivate = %d %s, want %d %s", c.Name, a.status, a.body, c.Status, c.Body)
				}
				checkHeaders(t, c, a)
				if h.applied() {
					t.Fatalf("%s: a scripted answer applied the change", c.Name)
				}
			}
			if n < 10 {
				t.Fatalf("scripted %d cases, want the table's %s cases", n, h.name)
			}
			// Several answers in one call, then the state's answer again.
			first, second := Cases[0], Cases[1]
			for _, c := range Cases {
				if c.Op == "" && c.Provider == h.provider && c.Status >= 500 {
					first, second = c, c
					second.Body = "second " + c.Body
					break
				}
			}
			h.script(first, second)
			for i, want := range []Case{first, second} {
				if a := h.reactivate(t, plain); a.status != want.Status || a.body != want.Body {
					t.Errorf("scripted answer %d = %d %s, want %d %s", i, a.status, a.body, want.Status, want.Body)
				}
			}
			if a := h.reactivate(t, plain); a.status != http.StatusOK || !h.applied() {
				t.Errorf("reactivate after the script ran out = %d %s, want 200 and applied", a.status, a.body)
			}
		})
	}
}

// checkHeaders checks the answer carries the case's headers and content type. A header named in
// loose only needs a value (X-Request-Id: a ZITADEL-shaped one), as it differs per answer.
func checkHeaders(t *testing.T, c Case, a answer, loose ...string) {
	t.Helper()
	wantCT := c.ContentType
	if wantCT == "" {
		wantCT = "application/json"
	}
	if got := a.header.Get("Content-Type"); got != wantCT {
		t.Errorf("%s: Content-Type = %q, want %q", c.Name, got, wantCT)
	}
	for k, want := range c.Header {
		got := a.header.Get(k)
		switch {
		case k == "X-Request-Id" && slices.Contains(loose, k):
			if len(got) != len(ZitadelRequestID) {
				t.Errorf("%s: X-Request-Id = %q, want a 20-character id", c.Name, got)
			}
		case slices.Contains(loose, k):
			if got == "" {
				t.Errorf("%s: header %s missing, want one like %q", c.Name, k, want)
			}
		case got != want:
			t.Errorf("%s: header %s = %q, want %q", c.Name, k, got, want)
		}
	}
}

func TestLastPathsKeepsEscapedPaths(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	z.AddToken(tPAT, tZOrg)
	z.AddUser("a/b c", tZOrg, ZitadelInactive)
	base := serve(t, z)
	p := "/v2/users/a%2Fb%20c/reactivate"
	if a := call(t, plain, http.MethodPost, base+p, map[string]string{"Authorization": "Bearer " + tPAT}, ""); a.status != http.StatusOK {
		t.Fatalf("reactivate %s = %d %s, want 200", p, a.status, a.body)
	}
	if got := z.LastPaths(); len(got) != 1 || got[0] != p {
		t.Errorf("LastPaths() = %q, want [%q]", got, p)
	}
	if got := z.Calls("a/b c"); got != 1 {
		t.Errorf("Calls(%q) = %d, want 1", "a/b c", got)
	}
	for range pathRing + 5 {
		call(t, plain, http.MethodGet, base+"/other", nil, "")
	}
	if got := z.LastPaths(); len(got) != pathRing || got[pathRing-1] != "/other" {
		t.Errorf("LastPaths() after %d more = %d paths ending %q, want %d ending /other", pathRing+5, len(got), got[len(got)-1], pathRing)
	}
}
