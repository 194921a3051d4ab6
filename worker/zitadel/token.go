// This file is responsible for the bearer token of every call: a static personal access token,
// or one fetched at ZITADEL's token endpoint with client credentials or a signed JWT profile
// assertion, cached until it expires.

package zitadel

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"reactivator/internal/httpapi"
	"reactivator/internal/secretfile"
	"reactivator/jobs"
)

// Scopes asks for a token whose audience includes ZITADEL's own APIs.
var Scopes = []string{"openid", "urn:zitadel:iam:org:project:id:zitadel:aud"}

// grantJWTBearer is the JWT profile grant type (RFC 7523).
const grantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// assertionBackdate moves an assertion's iat into the past, so that a client clock a little
// ahead of ZITADEL's does not make it "issued in the future"; ZITADEL accepts an iat up to an
// hour old.
const assertionBackdate = 10 * time.Second

// tokenSource gives the bearer token of a call.
type tokenSource interface {
	// token returns the token to send.
	token(ctx context.Context) (string, error)
	// invalidate drops tok from the cache after ZITADEL refused it; it reports whether a fresh
	// token may be fetched (false for a static token).
	invalidate(tok string) bool
}

// staticToken is a personal access token.
type staticToken string

func (s staticToken) token(context.Context) (string, error) { return string(s), nil }
func (staticToken) invalidate(string) bool                  { return false }

// fileToken is a personal access token read from a file that may be rotated: a refused token
// is worth one more try only when the file now holds another, read again now or by a call
// refused at the same time.
type fileToken struct{ f *secretfile.File }

func (t fileToken) token(context.Context) (string, error) { return t.f.Value(), nil }

func (t fileToken) invalidate(tok string) bool {
	t.f.Reload()
	return t.f.Value() != tok
}

// keySource is the service user's key: from KeyJSON, or from a key file read again when it
// changes (a new key parsed once per new content).
type keySource struct {
	name string
	file *secretfile.File
	raw  string // KeyJSON, when there is no file

	mu     sync.Mutex
	parsed string
	key    *profileKey
	seen   []string
}

// get returns the current key.
func (ks *keySource) get() (*profileKey, error) {
	raw := ks.raw
	if ks.file != nil {
		raw = ks.file.Value()
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.key != nil && raw == ks.parsed {
		return ks.key, nil
	}
	k, err := parseKeyFile(ks.name, []byte(raw))
	if err != nil {
		if ks.key != nil {
			return ks.key, nil // a rotation half done: keep the last good key
		}
		return nil, err
	}
	ks.key, ks.parsed = k, raw
	ks.seen = append(ks.seen, k.pem)
	return k, nil
}

// pems returns every key's PEM, for scrubbing.
func (ks *keySource) pems() []string {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return slices.Clone(ks.seen)
}

// cachedToken fetches a token when it has none or the one it has expires within ten seconds
// (oauth2.Token.Valid). One fetch runs at a time; callers wait for it or for their context.
// It does what oauth2.ReuseTokenSource does, but with the caller's context, so a shutdown or
// the call's timeout also ends a token fetch.
type cachedToken struct {
	sem   chan struct{}
	tok   *oauth2.Token
	fetch func(ctx context.Context) (*oauth2.Token, error)
	// onInvalidate, when set, runs when ZITADEL refused a token.
	onInvalidate func()
}

func newCachedToken(fetch func(ctx context.Context) (*oauth2.Token, error)) *cachedToken {
	return &cachedToken{sem: make(chan struct{}, 1), fetch: fetch}
}

func (c *cachedToken) token(ctx context.Context) (string, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.sem }()
	if c.tok.Valid() {
		return c.tok.AccessToken, nil
	}
	t, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	c.tok = t
	return t.AccessToken, nil
}

func (c *cachedToken) invalidate(tok string) bool {
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	if c.tok != nil && c.tok.AccessToken == tok {
		c.tok = nil
	}
	if c.onInvalidate != nil {
		c.onInvalidate()
	}
	return true
}

// withHTTPClient makes x/oauth2 fetch tokens with hc.
func withHTTPClient(ctx context.Context, hc *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// clientCredentialsFetch exchanges a client id and secret (HTTP Basic) for a token.
func clientCredentialsFetch(tokenURL, id, secret string, hc *http.Client) func(context.Context) (*oauth2.Token, error) {
	cc := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL, Scopes: Scopes, AuthStyle: oauth2.AuthStyleInHeader}
	return func(ctx context.Context) (*oauth2.Token, error) { return cc.Token(withHTTPClient(ctx, hc)) }
}

// errSign is the error of a failed assertion signature; the signer's own error is not kept, in
// case it quotes key material.
var errSign = errors.New("zitadel: cannot sign the JWT profile assertion")

// profileKey is a service user's key from a ZITADEL key file.
type profileKey struct {
	userID, keyID string
	key           *rsa.PrivateKey
	pem           string // for scrubbing messages only
}

// parseKeyFile reads a ZITADEL service-user key file. name says where it came from, for errors;
// no error repeats any of the file's content.
func parseKeyFile(name string, data []byte) (*profileKey, error) {
	var f struct {
		Type   string `json:"type"`
		KeyID  string `json:"keyId"`
		Key    string `json:"key"`
		UserID string `json:"userId"`
	}
	bad := func(why string) error { return fmt.Errorf("zitadel: key file %s %s", name, why) }
	if json.Unmarshal(data, &f) != nil {
		return nil, bad("is not a ZITADEL key file (want JSON with type, keyId, key and userId)")
	}
	switch {
	case f.Type == "application":
		return nil, bad("is an application key; reactivator needs a service user's key (type serviceaccount)")
	case f.Type != "" && f.Type != "serviceaccount":
		return nil, bad(fmt.Sprintf("has type %q; reactivator needs a service user's key (type serviceaccount)", f.Type))
	case f.UserID == "":
		return nil, bad("has no userId")
	case f.KeyID == "":
		return nil, bad("has no keyId")
	case f.Key == "":
		return nil, bad("has no key")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(f.Key))
	if err != nil {
		return nil, bad("has a key that is not a PEM RSA private key")
	}
	return &profileKey{userID: f.UserID, keyID: f.KeyID, key: key, pem: f.Key}, nil
}

// assertion signs the JWT profile assertion: RS256, kid the key id, iss and sub the service
// user, aud the issuer, valid for an hour.
func (k *profileKey) assertion(issuer string, now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    k.userID,
		Subject:   k.userID,
		Audience:  jwt.ClaimStrings{issuer},
		IssuedAt:  jwt.NewNumericDate(now.Add(-assertionBackdate)),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		ID:        rand.Text(),
	})
	t.Header["kid"] = k.keyID
	s, err := t.SignedString(k.key)
	if err != nil {
		return "", errSign
	}
	return s, nil
}

// jwtProfileFetch exchanges a freshly signed assertion for a token. x/oauth2's client
// credentials flow allows overriding grant_type, which gives this grant its form encoding,
// error parsing (oauth2.RetrieveError) and expiry handling.
//
// A key file rotated since the last look is read before the grant is counted as refused: when the
// token endpoint refuses the key and the file now holds another, the grant is tried once more.
func jwtProfileFetch(tokenURL, issuer string, ks *keySource, hc *http.Client) func(context.Context) (*oauth2.Token, error) {
	once := func(ctx context.Context) (*oauth2.Token, error) {
		k, err := ks.get()
		if err != nil {
			return nil, err
		}
		a, err := k.assertion(issuer, time.Now())
		if err != nil {
			return nil, err
		}
		cc := &clientcredentials.Config{
			TokenURL:       tokenURL,
			Scopes:         Scopes,
			AuthStyle:      oauth2.AuthStyleInParams,
			EndpointParams: url.Values{"grant_type": {grantJWTBearer}, "assertion": {a}},
		}
		return cc.Token(withHTTPClient(ctx, hc))
	}
	return func(ctx context.Context) (*oauth2.Token, error) {
		t, err := once(ctx)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 &&
			ks.file != nil && ks.file.Reload() {
			return once(ctx)
		}
		return t, err
	}
}

// tokenResult classifies a failed token fetch. The reactivate call was not sent, so the result
// is never ambiguous and Called is false. A token endpoint refusing the client, the key or the
// grant is fatal (what to check says advice); 429, 5xx and transport errors are transient.
func tokenResult(err error, advice string) jobs.Result {
	res := jobs.Result{Class: jobs.ClassTransient}
	var re *oauth2.RetrieveError
	var ue *url.Error
	switch {
	case errors.As(err, &re) && re.Response != nil:
		st := re.Response.StatusCode
		res.HTTPStatus, res.ErrorType = st, re.ErrorCode
		res.RequestID = re.Response.Header.Get("X-Request-Id")
		res.RetryAfter = httpapi.ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		said := fmt.Sprintf("HTTP %d", st)
		if re.ErrorCode != "" {
			said += " " + re.ErrorCode
			if re.ErrorDescription != "" {
				said += ": " + clipTo(re.ErrorDescription, maxQuotedRunes)
			}
		}
		switch {
		case st == http.StatusTooManyRequests:
			res.Message = "ZITADEL's token endpoint is rate limiting (" + said + ")"
		case st >= 500 || st == http.StatusRequestTimeout:
			res.Message = "ZITADEL's token endpoint failed (" + said + ")"
		case st == http.StatusNotFound || st == http.StatusMethodNotAllowed || (st >= 300 && st < 400):
			res.Class, res.Message = jobs.ClassFatal, "ZITADEL's token endpoint is not there ("+said+"): check ZITADEL_URL, it must be the instance's external domain"
		default:
			res.Class, res.Message = jobs.ClassFatal, "ZITADEL's token endpoint refused the credentials ("+said+"): "+advice
		}
	case errors.As(err, &ue), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		res = httpapi.TransportResult(err)
		res.Message = "token endpoint: " + res.Message
	case strings.HasPrefix(err.Error(), "oauth2: cannot parse") || strings.HasPrefix(err.Error(), "oauth2: server response missing access_token"):
		// x/oauth2's errors for a 2xx without a token: something else answered.
		res.Class, res.Message = jobs.ClassFatal, "ZITADEL's token endpoint answered without a token: check ZITADEL_URL"
	case errors.Is(err, errSign):
		res.Class, res.Message = jobs.ClassFatal, err.Error()
	default:
		res.Message = "token endpoint: " + err.Error()
	}
	res.Ambiguous, res.Called = false, false
	res.Message = clip(res.Message)
	return res
}
