// This file tests the token grants against httptest token endpoints that check what ZITADEL
// checks: grant type, client authentication, scope, and the signed assertion.

package zitadel

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

const (
	testClientID     = "reactivator-sa@acme"
	testClientSecret = "cs-SECRET-p0Q+x/9:z&=Lk3vN8wYb"
	testKeyUserID    = "400907376431008901"
	testKeyID        = "400907376431008999"
)

// idp is a ZITADEL stand-in: a token endpoint that hands out numbered tokens and a reactivate
// endpoint that accepts only the tokens it handed out.
type idp struct {
	t *testing.T
	// checkGrant checks a token request's form and headers; it returns an OAuth error code to refuse.
	checkGrant func(r *http.Request) string
	expiresIn  int
	// refuse, when set, answers every token request with this status and body.
	refuseStatus int
	refuseBody   string
	// rejectFirst makes the reactivate endpoint answer 401 to token 1 (revoked early).
	rejectFirst bool

	fetches, calls atomic.Int32
	srv            *httptest.Server
}

func newIDP(t *testing.T, d *idp) *idp {
	t.Helper()
	d.t = t
	if d.expiresIn == 0 {
		d.expiresIn = 43199
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/v2/token", d.token)
	mux.HandleFunc("POST /v2/users/{id}/reactivate", d.reactivate)
	mux.HandleFunc("GET /auth/v1/users/me", d.reactivate)
	probe := func(w http.ResponseWriter, r *http.Request) {
		body, _ := fakeidp.ZitadelProbeAnswer(fakeidp.PermsInstance, r.URL.Path, r.Header.Get("X-Zitadel-Orgid"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}
	mux.HandleFunc("POST /auth/v1/memberships/me/_search", probe)
	mux.HandleFunc("POST /auth/v1/permissions/zitadel/me/_search", probe)
	d.srv = httptest.NewServer(mux)
	t.Cleanup(d.srv.Close)
	return d
}

func (d *idp) token(w http.ResponseWriter, r *http.Request) {
	n := d.fetches.Add(1)
	w.Header().Set("Content-Type", "application/json")
	if d.refuseStatus != 0 {
		w.WriteHeader(d.refuseStatus)
		_, _ = io.WriteString(w, d.refuseBody)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		d.t.Errorf("token request content type = %q, want application/x-www-form-urlencoded", ct)
	}
	if err := r.ParseForm(); err != nil {
		d.t.Errorf("token request form: %v", err)
	}
	if got, want := r.PostForm.Get("scope"), "openid urn:zitadel:iam:org:project:id:zitadel:aud"; got != want {
		d.t.Errorf("token request scope = %q, want %q", got, want)
	}
	if code := d.checkGrant(r); code != "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":%q,"error_description":"refused by the test"}`, code)
		return
	}
	fmt.Fprintf(w, `{"access_token":"at-%d-%s","token_type":"Bearer","expires_in":%d}`, n, strings.Repeat("x", 20), d.expiresIn)
}

func (d *idp) reactivate(w http.ResponseWriter, r *http.Request) {
	d.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer at-") || (d.rejectFirst && strings.HasPrefix(auth, "Bearer at-1-")) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, fakeidp.ZitadelError(16, "Errors.Token.Invalid", "AUTH-7fs1e"))
		return
	}
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, `{"user":{"id":"`+testKeyUserID+`","state":"USER_STATE_ACTIVE"}}`)
		return
	}
	_, _ = io.WriteString(w, fakeidp.ZitadelSuccess)
}

// checkClientCredentials is what ZITADEL checks of a client credentials request.
func checkClientCredentials(t *testing.T) func(r *http.Request) string {
	return func(r *http.Request) string {
		if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
			t.Errorf("grant_type = %q, want client_credentials", g)
			return "unsupported_grant_type"
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			t.Errorf("token request has no Basic auth")
			return "invalid_client"
		}
		// RFC 6749 2.3.1: the id and secret are form-encoded before Basic; ZITADEL decodes them.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if id != testClientID || secret != testClientSecret {
			t.Errorf("Basic auth = %q:%q, want the client credentials", id, secret)
			return "invalid_client"
		}
		if r.PostForm.Has("client_secret") {
			t.Errorf("client_secret sent in the form, want it only in the Basic header")
		}
		return ""
	}
}

func newClientCredentialsClient(t *testing.T, d *idp) *Client {
	t.Helper()
	c, err := New(t.Context(), Config{BaseURL: d.srv.URL, ClientID: testClientID, ClientSecret: testClientSecret})
	if err != nil {
		t.Fatalf("New(client credentials) = %v", err)
	}
	return c
}

var testRow = jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: userID}

func TestClientCredentialsTokenCached(t *testing.T) {
	t.Parallel()
	d := newIDP(t, &idp{checkGrant: checkClientCredentials(t)})
	c := newClientCredentialsClient(t, d)
	for i := range 3 {
		if got := c.Reactivate(t.Context(), testRow); got.Class != jobs.ClassReactivated {
			t.Fatalf("Reactivate #%d = %+v, want reactivated", i+1, got)
		}
	}
	if err := c.Check(t.Context()); err != nil {
		t.Errorf("Check() = %v, want nil", err)
	}
	if n := d.fetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1 (cached)", n)
	}
}

func TestTokenFetchedOnceForConcurrentCalls(t *testing.T) {
	t.Parallel()
	d := newIDP(t, &idp{checkGrant: checkClientCredentials(t)})
	c := newClientCredentialsClient(t, d)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if got := c.Reactivate(t.Context(), testRow); got.Class != jobs.ClassReactivated {
				t.Errorf("Reactivate = %+v, want reactivated", got)
			}
		})
	}
	wg.Wait()
	if f, n := d.fetches.Load(), d.calls.Load(); f != 1 || n != 20 {
		t.Errorf("fetches, calls = %d, %d, want 1, 20", f, n)
	}
}

func TestClientCredentialsTokenRefreshedWhenExpired(t *testing.T) {
	t.Parallel()
	// A token that expires within oauth2's ten-second margin is never reused.
	d := newIDP(t, &idp{checkGrant: checkClientCredentials(t), expiresIn: 1})
	c := newClientCredentialsClient(t, d)
	for i := range 2 {
		if got := c.Reactivate(t.Context(), testRow); got.Class != jobs.ClassReactivated {
			t.Fatalf("Reactivate #%d = %+v, want reactivated", i+1, got)
		}
	}
	if n := d.fetches.Load(); n != 2 {
		t.Errorf("token fetches = %d, want 2 (expired token refreshed)", n)
	}
}

func TestFetchedTokenRefusedIsRefetchedOnce(t *testing.T) {
	t.Parallel()
	d := newIDP(t, &idp{checkGrant: checkClientCredentials(t), rejectFirst: true})
	c := newClientCredentialsClient(t, d)
	if got := c.Reactivate(t.Context(), testRow); got.Class != jobs.ClassReactivated {
		t.Fatalf("Reactivate(first token revoked) = %+v, want reactivated with a fresh token", got)
	}
	if f, n := d.fetches.Load(), d.calls.Load(); f != 2 || n != 2 {
		t.Errorf("fetches, calls = %d, %d, want 2, 2", f, n)
	}
}

func TestStaticTokenRefusedIsNotRetried(t *testing.T) {
	t.Parallel()
	d := newIDP(t, &idp{})
	c := newPATClient(t, d.srv, nil) // "pat-…" is not a token the idp handed out
	got := c.Reactivate(t.Context(), testRow)
	if got.Class != jobs.ClassFatal || got.HTTPStatus != 401 || !strings.Contains(got.Message, "ZITADEL_TOKEN") {
		t.Errorf("Reactivate(bad PAT) = %+v, want fatal 401 naming ZITADEL_TOKEN", got)
	}
	if n := d.calls.Load(); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		body      string
		want      jobs.Class
		wantType  string
		wantFatal bool
		wantIn    string
	}{
		{name: "invalid client 401", status: 401, body: `{"error":"invalid_client","error_description":"client not found"}`, want: jobs.ClassFatal, wantType: "invalid_client", wantFatal: true, wantIn: "ZITADEL_CLIENT_SECRET"},
		{name: "invalid client 400", status: 400, body: `{"error":"invalid_client","error_description":"invalid secret"}`, want: jobs.ClassFatal, wantType: "invalid_client", wantFatal: true, wantIn: "ZITADEL_CLIENT_ID"},
		{name: "unauthorized client", status: 400, body: `{"error":"unauthorized_client"}`, want: jobs.ClassFatal, wantType: "unauthorized_client", wantFatal: true},
		{name: "wrong host 404", status: 404, body: fakeidp.ZitadelWrongHost, want: jobs.ClassFatal, wantFatal: true, wantIn: "ZITADEL_URL"},
		{name: "html 200 without token", status: 200, body: "<html>hello</html>", want: jobs.ClassFatal, wantFatal: true, wantIn: "ZITADEL_URL"},
		{name: "json 200 without token", status: 200, body: `{"token_type":"Bearer"}`, want: jobs.ClassFatal, wantFatal: true, wantIn: "ZITADEL_URL"},
		{name: "unavailable", status: 503, body: `{"error":"server_error"}`, want: jobs.ClassTransient, wantType: "server_error"},
		{name: "rate limited", status: 429, body: "<html>429</html>", want: jobs.ClassTransient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newIDP(t, &idp{refuseStatus: tc.status, refuseBody: tc.body})
			c := newClientCredentialsClient(t, d)
			got := c.Reactivate(t.Context(), testRow)
			wantStatus := tc.status
			if wantStatus == 200 {
				wantStatus = 0 // no token in a 200: x/oauth2 keeps no status
			}
			if got.Class != tc.want || got.ErrorType != tc.wantType || got.HTTPStatus != wantStatus || got.Called || got.Ambiguous {
				t.Errorf("Reactivate(token %d) = %+v, want class %q, type %q, status %d, not called, not ambiguous", tc.status, got, tc.want, tc.wantType, wantStatus)
			}
			if !strings.Contains(got.Message, tc.wantIn) {
				t.Errorf("Reactivate(token %d) message = %q, want it to mention %q", tc.status, got.Message, tc.wantIn)
			}
			err := c.Check(t.Context())
			if err == nil || errors.Is(err, jobs.ErrFatal) != tc.wantFatal {
				t.Errorf("Check(token %d) = %v, want an error, fatal %v", tc.status, err, tc.wantFatal)
			}
			if n := d.calls.Load(); n != 0 {
				t.Errorf("reactivate calls = %d, want 0", n)
			}
			assertNoSecret(t, "Reactivate message", got.Message, testClientSecret)
			if err != nil {
				assertNoSecret(t, "Check error", err.Error(), testClientSecret)
			}
		})
	}
}

func TestTokenEndpointUnreachable(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := New(t.Context(), Config{BaseURL: srv.URL, ClientID: testClientID, ClientSecret: testClientSecret, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Reactivate(t.Context(), testRow)
	if got.Class != jobs.ClassTransient || got.Ambiguous || got.Called {
		t.Errorf("Reactivate(token endpoint times out) = %+v, want transient, not ambiguous, not called", got)
	}
	if err := c.Check(t.Context()); err == nil || errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Check(token endpoint times out) = %v, want a non-fatal error", err)
	}
}

// testKey is a service user's key file written for one test.
type testKey struct {
	priv *rsa.PrivateKey
	pem  string
	path string
}

func writeKeyFile(t *testing.T, pkcs8 bool) testKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	k := testKey{priv: priv, pem: string(pem.EncodeToMemory(block))}
	data, _ := json.Marshal(map[string]string{"type": "serviceaccount", "keyId": testKeyID, "key": k.pem, "userId": testKeyUserID})
	k.path = filepath.Join(t.TempDir(), "sa-key.json")
	if err := os.WriteFile(k.path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// checkJWTProfile is what ZITADEL checks of a JWT profile request.
func checkJWTProfile(t *testing.T, pub *rsa.PublicKey, issuer *string) func(r *http.Request) string {
	return func(r *http.Request) string {
		if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			t.Errorf("grant_type = %q, want urn:ietf:params:oauth:grant-type:jwt-bearer", g)
			return "unsupported_grant_type"
		}
		if _, _, ok := r.BasicAuth(); ok {
			t.Errorf("JWT profile request carries Basic auth, want none")
		}
		var claims jwt.RegisteredClaims
		tok, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), &claims, func(tok *jwt.Token) (any, error) {
			if kid := tok.Header["kid"]; kid != testKeyID {
				return nil, fmt.Errorf("kid = %v, want %s", kid, testKeyID)
			}
			return pub, nil
		}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(testKeyUserID), jwt.WithSubject(testKeyUserID),
			jwt.WithAudience(*issuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if err != nil || !tok.Valid {
			t.Errorf("assertion: %v", err)
			return "invalid_grant"
		}
		if claims.IssuedAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 2*time.Hour {
			t.Errorf("assertion iat, exp = %v, %v, want iat set and a lifetime of at most two hours", claims.IssuedAt, claims.ExpiresAt)
		}
		return ""
	}
}

func TestJWTProfile(t *testing.T) {
	t.Parallel()
	for _, pkcs8 := range []bool{false, true} {
		t.Run(fmt.Sprintf("pkcs8=%v", pkcs8), func(t *testing.T) {
			t.Parallel()
			k := writeKeyFile(t, pkcs8)
			var issuer string
			d := newIDP(t, &idp{checkGrant: checkJWTProfile(t, &k.priv.PublicKey, &issuer)})
			issuer = d.srv.URL
			c, err := New(t.Context(), Config{BaseURL: d.srv.URL + "/", KeyFile: k.path})
			if err != nil {
				t.Fatalf("New(key file) = %v", err)
			}
			for i := range 2 {
				if got := c.Reactivate(t.Context(), testRow); got.Class != jobs.ClassReactivated {
					t.Fatalf("Reactivate #%d = %+v, want reactivated", i+1, got)
				}
			}
			if err := c.Check(t.Context()); err != nil {
				t.Errorf("Check() = %v, want nil", err)
			}
			if n := d.fetches.Load(); n != 1 {
				t.Errorf("token fetches = %d, want 1 (cached)", n)
			}
		})
	}
}

func TestJWTProfileKeyRefused(t *testing.T) {
	t.Parallel()
	k := writeKeyFile(t, false)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	d := newIDP(t, &idp{checkGrant: func(r *http.Request) string {
		// The server knows another public key: the signature does not verify.
		_, err := jwt.Parse(r.PostForm.Get("assertion"), func(*jwt.Token) (any, error) { return &other.PublicKey, nil })
		if err == nil {
			t.Errorf("assertion verified with the wrong key")
		}
		return "invalid_grant"
	}})
	data, err := os.ReadFile(k.path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(t.Context(), Config{BaseURL: d.srv.URL, KeyJSON: data})
	if err != nil {
		t.Fatalf("New(KeyJSON) = %v", err)
	}
	got := c.Reactivate(t.Context(), testRow)
	if got.Class != jobs.ClassFatal || got.Called || got.ErrorType != "invalid_grant" || !strings.Contains(got.Message, "ZITADEL_KEY_FILE") {
		t.Errorf("Reactivate(refused key) = %+v, want fatal invalid_grant naming ZITADEL_KEY_FILE, not called", got)
	}
	if err := c.Check(t.Context()); !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Check(refused key) = %v, want it to wrap jobs.ErrFatal", err)
	}
	for _, s := range []string{got.Message, fmt.Sprint(c.Check(t.Context()))} {
		assertNoSecret(t, "message", s, k.pem, strings.Split(k.pem, "\n")[1])
	}
}

func TestKeyFileErrors(t *testing.T) {
	t.Parallel()
	k := writeKeyFile(t, false)
	keyLine := strings.Split(k.pem, "\n")[1]
	file := func(m map[string]string) []byte { b, _ := json.Marshal(m); return b }
	tests := []struct {
		name   string
		data   []byte
		wantIn string
	}{
		{name: "not json", data: []byte("-----BEGIN RSA PRIVATE KEY-----\n" + keyLine), wantIn: "not a ZITADEL key file"},
		{name: "application key", data: file(map[string]string{"type": "application", "keyId": testKeyID, "key": k.pem, "appId": "1", "clientId": "2"}), wantIn: "application key"},
		{name: "other type", data: file(map[string]string{"type": "something", "keyId": testKeyID, "key": k.pem, "userId": testKeyUserID}), wantIn: "serviceaccount"},
		{name: "no user id", data: file(map[string]string{"type": "serviceaccount", "keyId": testKeyID, "key": k.pem}), wantIn: "no userId"},
		{name: "no key id", data: file(map[string]string{"type": "serviceaccount", "key": k.pem, "userId": testKeyUserID}), wantIn: "no keyId"},
		{name: "no key", data: file(map[string]string{"type": "serviceaccount", "keyId": testKeyID, "userId": testKeyUserID}), wantIn: "no key"},
		{name: "broken pem", data: file(map[string]string{"type": "serviceaccount", "keyId": testKeyID, "key": k.pem[:200], "userId": testKeyUserID}), wantIn: "not a PEM RSA private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "key.json")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(t.Context(), Config{BaseURL: "https://acme.zitadel.cloud", KeyFile: path})
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) || !strings.Contains(err.Error(), path) {
				t.Fatalf("New(%s) = %v, want an error naming %s and saying %q", tc.name, err, path, tc.wantIn)
			}
			assertNoSecret(t, "New error", err.Error(), k.pem, keyLine, keyLine[:16])
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, err := New(t.Context(), Config{BaseURL: "https://acme.zitadel.cloud", KeyFile: filepath.Join(t.TempDir(), "nope.json")})
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "ZITADEL_KEY_FILE") {
			t.Errorf("New(missing key file) = %v, want a not-exist error naming ZITADEL_KEY_FILE", err)
		}
	})
}
