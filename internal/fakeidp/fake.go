// This file holds the machinery both fakes share: call accounting, fault injection, rate limiting,
// scripted answers and answer writing.

package fakeidp

import (
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"reactivator/internal/clock"
)

// Faults says which faults a fake injects into reactivate calls. The zero value injects none.
// The shares are drawn with one random number per call, so they add up: Rate5xx+RateDrop+RateStall
// should not exceed 1.
type Faults struct {
	// Latency is added to every reactivate call before anything else is done.
	Latency time.Duration
	// Rate5xx is the share of calls answered 500 internal_server_error (Stytch) or 503 code 14
	// (ZITADEL); the change is not applied.
	Rate5xx float64
	// RateDrop is the share of calls whose change is applied, then whose connection is closed
	// without an answer.
	RateDrop float64
	// RateStall is the share of calls whose change is applied, then whose answer is held back for
	// Stall (or until the client goes away): make Stall longer than the client's timeout.
	RateStall float64
	// Stall is how long a stalled call waits before answering.
	Stall time.Duration
	// Seed seeds the random draws, so a sequence of calls meets the same faults every run.
	Seed int64
}

// RateLimit is a fake's limit on reactivate calls: a token bucket of PerSecond tokens a second
// holding at most Burst. A call over the limit is answered 429 too_many_requests (Stytch) or 429
// code 8 (ZITADEL) and changes nothing.
type RateLimit struct {
	// PerSecond is the sustained rate; 0 or less means no limit.
	PerSecond int
	// Burst is the bucket's size; 0 means PerSecond (one second's worth).
	Burst int
	// RetryAfter adds a Retry-After header (whole seconds until a call would pass) to the 429.
	RetryAfter bool
}

// callKey names an account: Stytch's organization and member, ZITADEL's user (in b).
type callKey struct{ a, b string }

// fault is what an injected fault does to one call.
type fault uint8

const (
	faultNone fault = iota
	fault5xx
	faultDrop
	faultStall
)

// pathRing is how many request paths LastPaths keeps.
const pathRing = 256

type limit struct {
	lim        *rate.Limiter
	retryAfter bool
}

// fake is embedded by Stytch and Zitadel: it counts calls, draws faults, enforces the rate limit
// and pops scripted answers. Its methods are safe for concurrent use.
type fake struct {
	// clock is the time of the histogram, the rate limit, the arrivals, answer dates and token
	// lifetimes: clock.Real unless SetClock replaced it before serving.
	clock clock.Clock
	// parseKey turns a Calls key into an account.
	parseKey func(string) callKey

	limit atomic.Pointer[limit]
	seq   atomic.Uint64
	salt  uint32

	mu       sync.Mutex
	faults   Faults
	rng      *rand.Rand
	total    int
	hist     map[int64]int
	maxSec   int
	count429 int
	calls    map[callKey]int
	scripts  map[callKey][]Case
	paths    [pathRing]string
	npaths   int
	// byPath counts the requests of each escaped path.
	byPath map[string]int
	// arrivals are the arrival times (unix nanoseconds, by the fake's clock) of every request, in
	// order.
	arrivals []int64
}

func newFake(parseKey func(string) callKey) fake {
	return fake{
		clock:    clock.Real,
		parseKey: parseKey,
		salt:     rand.Uint32(),
		rng:      rand.New(rand.NewPCG(0, 0)),
		hist:     make(map[int64]int),
		calls:    make(map[callKey]int),
		scripts:  make(map[callKey][]Case),
		byPath:   make(map[string]int),
	}
}

// SetClock replaces the fake's clock (clock.Real by default, nil meaning it too), so a test can
// drive the histogram, the rate limit, answer dates and token lifetimes. Call it before serving.
func (f *fake) SetClock(c clock.Clock) { f.clock = clock.Or(c) }

// now is the time by the fake's clock.
func (f *fake) now() time.Time { return f.clock.Now() }

// SetFaults replaces the injected faults and reseeds their random draws with f.Seed.
func (f *fake) SetFaults(flt Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = flt
	f.rng = rand.New(rand.NewPCG(uint64(flt.Seed), 0))
}

// SetRateLimit replaces the rate limit of reactivate calls; a zero RateLimit removes it.
func (f *fake) SetRateLimit(rl RateLimit) {
	if rl.PerSecond <= 0 {
		f.limit.Store(nil)
		return
	}
	burst := rl.Burst
	if burst <= 0 {
		burst = rl.PerSecond
	}
	lim := rate.NewLimiter(rate.Limit(rl.PerSecond), burst)
	f.limit.Store(&limit{lim: lim, retryAfter: rl.RetryAfter})
}

// Calls returns how many reactivate calls reached the account named by key (Stytch
// "organization/member", ZITADEL the user id): those that passed the rate limit and the
// credentials check, whatever they were answered.
func (f *fake) Calls(key string) int {
	k := f.parseKey(key)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[k]
}

// TotalCalls returns how many reactivate requests the fake received, rate-limited ones included.
func (f *fake) TotalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// RequestsSince returns how many requests of any kind (reactivate, reads, token, checks) arrived
// at or after t by the fake's clock (the wall clock unless SetClock replaced it): what a stop rule
// test compares with the moment of its signal.
func (f *fake) RequestsSince(t time.Time) int {
	at := t.UnixNano()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.arrivals {
		if a >= at {
			n++
		}
	}
	return n
}

// Histogram returns how many reactivate requests arrived in each unix second.
func (f *fake) Histogram() map[int64]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := make(map[int64]int, len(f.hist))
	for k, v := range f.hist {
		h[k] = v
	}
	return h
}

// MaxPerSecond returns the most reactivate requests that arrived in one unix second.
func (f *fake) MaxPerSecond() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxSec
}

// Count429 returns how many reactivate requests were answered 429 by the rate limit.
func (f *fake) Count429() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count429
}

// LastPaths returns the escaped paths of the last requests the fake received (at most 256),
// oldest first, reactivate or not.
func (f *fake) LastPaths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(f.npaths, pathRing)
	out := make([]string, 0, n)
	for i := f.npaths - n; i < f.npaths; i++ {
		out = append(out, f.paths[i%pathRing])
	}
	return out
}

// Requests returns how many requests of any kind the fake received for the escaped path, e.g.
// "/v2/users" (ZITADEL's ListUsers) or "/v1/b2b/organizations/members/search".
func (f *fake) Requests(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byPath[path]
}

// script queues answers for an account.
func (f *fake) script(k callKey, answers []Case) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[k] = append(f.scripts[k], answers...)
}

// seen records a request's path and, for a reactivate request, its arrival. It returns the
// faults in force.
func (f *fake) seen(path string, reactivate bool) Faults {
	now := f.now()
	arrived := now.UnixNano()
	var sec int64
	if reactivate {
		sec = now.Unix()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.arrivals = append(f.arrivals, arrived)
	f.paths[f.npaths%pathRing] = path
	f.npaths++
	f.byPath[path]++
	if reactivate {
		f.total++
		n := f.hist[sec] + 1
		f.hist[sec] = n
		f.maxSec = max(f.maxSec, n)
	}
	return f.faults
}

// admit reads the request's body, waits the injected latency, then applies the rate limit. ok is
// false when the client went away or the call is rate-limited (limited true, retryAfter the header
// value or ""). Reading the body to its end lets net/http notice a client that goes away, which
// ends a latency or a stall early.
func (f *fake) admit(r *http.Request, flt Faults) (ok, limited bool, retryAfter string) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<16))
	if flt.Latency > 0 && clock.Sleep(r.Context(), flt.Latency) != nil {
		return false, false, ""
	}
	l := f.limit.Load()
	if l == nil {
		return true, false, ""
	}
	now := f.now()
	res := l.lim.ReserveN(now, 1)
	d := res.DelayFrom(now)
	if d == 0 {
		return true, false, ""
	}
	res.CancelAt(now)
	f.mu.Lock()
	f.count429++
	f.mu.Unlock()
	if l.retryAfter {
		retryAfter = strconv.Itoa(int(max(1, (d+time.Second-1)/time.Second)))
	}
	return false, true, retryAfter
}

// begin counts a call that reached account k and returns its next scripted answer, if any, else
// the fault drawn for it.
func (f *fake) begin(k callKey) (*Case, fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[k]++
	if s, ok := f.scripts[k]; ok {
		c := s[0]
		if len(s) == 1 {
			delete(f.scripts, k)
		} else {
			f.scripts[k] = s[1:]
		}
		return &c, faultNone
	}
	flt := &f.faults
	if flt.Rate5xx <= 0 && flt.RateDrop <= 0 && flt.RateStall <= 0 {
		return nil, faultNone
	}
	u := f.rng.Float64()
	switch {
	case u < flt.Rate5xx:
		return nil, fault5xx
	case u < flt.Rate5xx+flt.RateDrop:
		return nil, faultDrop
	case u < flt.Rate5xx+flt.RateDrop+flt.RateStall:
		return nil, faultStall
	}
	return nil, faultNone
}

// deliver carries out a drop or a stall after the change was applied. It returns false when no
// answer must be written.
func (f *fake) deliver(w http.ResponseWriter, r *http.Request, flt fault) bool {
	switch flt {
	case faultDrop:
		drop(w)
		return false
	case faultStall:
		f.mu.Lock()
		d := f.faults.Stall
		f.mu.Unlock()
		return d <= 0 || clock.Sleep(r.Context(), d) == nil
	}
	return true
}

// drop closes the connection without an answer: hijacked and closed on HTTP/1, the stream reset
// on HTTP/2.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// writeCase answers with a table case verbatim: its status, headers, content type and body.
func writeCase(w http.ResponseWriter, c *Case) {
	h := w.Header()
	for k, v := range c.Header {
		h.Set(k, v)
	}
	ct := c.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(c.Body)))
	w.WriteHeader(c.Status)
	_, _ = io.WriteString(w, c.Body)
}

// writeBody writes status and a body made of parts, with its Content-Length.
func writeBody(w http.ResponseWriter, status int, parts ...string) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	w.Header()["Content-Length"] = []string{strconv.Itoa(n)}
	w.WriteHeader(status)
	for _, p := range parts {
		_, _ = io.WriteString(w, p)
	}
}

// template is an answer body with a request id to fill in.
type template struct{ pre, post string }

// split makes a template of body by cutting out the placeholder request id.
func split(body, id string) template {
	pre, post, ok := strings.Cut(body, id)
	if !ok {
		panic("fakeidp: body without its request id: " + body)
	}
	return template{pre: pre, post: post}
}

// nextSeq returns a number unique to this fake, for request ids.
func (f *fake) nextSeq() uint64 { return f.seq.Add(1) }

// dateCache formats the current second once for headers that carry a date.
type dateCache struct{ v atomic.Pointer[dateValue] }

type dateValue struct {
	sec int64
	v   []string
}

func (c *dateCache) get(now time.Time) []string {
	sec := now.Unix()
	if d := c.v.Load(); d != nil && d.sec == sec {
		return d.v
	}
	d := &dateValue{sec: sec, v: []string{now.UTC().Format(http.TimeFormat)}}
	c.v.Store(d)
	return d.v
}
