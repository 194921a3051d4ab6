// Package httpapi holds what both provider clients share about HTTP: which base URLs may carry
// credentials, the Retry-After header, and what a transport error means for a reactivate call.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"reactivator/internal/version"
	"reactivator/jobs"
)

// DefaultTimeout bounds one provider call when a client's config leaves Timeout zero.
const DefaultTimeout = 30 * time.Second

// MaxBody is the most of an answer's body a client reads.
const MaxBody = 1 << 20

// ParseBaseURL parses a provider base URL and refuses one that would send credentials in clear:
// only https, or http to a loopback host (a fake provider or a local proxy).
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, errors.New("base url is not a valid URL (want https://host)")
	}
	if u.User != nil {
		return nil, errors.New("base url must not carry user info: credentials come from their own settings")
	}
	raw = u.Redacted()
	if u.Host == "" {
		return nil, fmt.Errorf("base url %q has no host (want https://host)", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base url %q: credentials are never sent over plain http except to loopback; use https", raw)
		}
	default:
		return nil, fmt.Errorf("base url %q: scheme must be https", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base url %q: must not carry a query, fragment or user info", raw)
	}
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewClient returns an http.Client with the given timeout (DefaultTimeout when zero) that never
// follows a redirect: a redirect of a reactivate call is an answer to classify, not to chase.
func NewClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	return &http.Client{
		Timeout:       timeout,
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ClientFor returns the client and timeout a provider client uses: hc when given, else
// NewClient; the timeout is DefaultTimeout when zero.
func ClientFor(hc *http.Client, timeout time.Duration) (*http.Client, time.Duration) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if hc == nil {
		hc = NewClient(timeout)
	}
	return hc, timeout
}

// SetCommonHeaders sets the headers every provider call carries.
func SetCommonHeaders(h http.Header) {
	h.Set("User-Agent", version.UserAgent())
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
}

// ParseRetryAfter reads a Retry-After value, in seconds or as an HTTP date, relative to now.
// It returns 0 when the value is absent, malformed or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n > 86400*7 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ReadBody reads at most MaxBody bytes of an answer and closes it.
func ReadBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBody))
	return b
}

// TransportResult classifies a call that got no HTTP answer. Everything is transient; the call is
// ambiguous (it may have reached the provider) unless the connection was never made.
// ctxErr is the caller's context error: a cancelled context is transient and not ambiguous only
// when the request was never sent, which we cannot know, so it stays ambiguous.
func TransportResult(err error) jobs.Result {
	r := jobs.Result{Class: jobs.ClassTransient, Ambiguous: true, Called: true, Message: Redact(err)}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dnsErr):
		r.Ambiguous = false
	case errors.As(err, &opErr) && opErr.Op == "dial":
		r.Ambiguous = false
	case errors.Is(err, context.Canceled):
		r.Message = "call interrupted"
	}
	return r
}

// Redact returns err's text without the URL's query or user info; our URLs carry no secret,
// but an error message is shown to users and logged, so keep it to the minimum.
func Redact(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		if perr == nil {
			u.User = nil
			u.RawQuery = ""
			return fmt.Sprintf("%s %s: %v", ue.Op, u.Redacted(), ue.Err)
		}
		return fmt.Sprintf("%s: %v", ue.Op, ue.Err)
	}
	return err.Error()
}
