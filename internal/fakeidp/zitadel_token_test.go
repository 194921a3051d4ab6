// This file tests the fake ZITADEL's token endpoint: client credentials, the JWT profile grant,
// and the tokens they issue on the reactivate endpoints.

package fakeidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const apiScope = "openid " + ZitadelAPIScope

// clientToken gets a token with client credentials and fails the test otherwise.
func clientToken(t *testing.T, base, id, secret string) tokenAnswer {
	t.Helper()
	a := tokenCall(t, base, url.Values{"grant_type": {"client_credentials"}, "scope": {apiScope}}, basic(id, secret))
	var tok tokenAnswer
	if err := json.Unmarshal([]byte(a.body), &tok); err != nil || a.status != http.StatusOK || tok.AccessToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("client_credentials token = %d %s (%v), want 200 and a Bearer token", a.status, a.body, err)
	}
	return tok
}

func tokenCall(t *testing.T, base string, form url.Values, auth string) answer {
	t.Helper()
	return call(t, plain, http.MethodPost, base+"/oauth/v2/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}, form.Encode())
}

// reactivateWith calls v2 reactivate for tUser with a bearer token.
func reactivateWith(t *testing.T, base, token string) answer {
	t.Helper()
	return call(t, plain, http.MethodPost, base+zitadelPath("v2", tUser), map[string]string{"Authorization": "Bearer " + token}, "{}")
}

func TestZitadelClientCredentials(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	z.AddClient("reactivator", "s3cret", tZOrg)
	z.AddUser(tUser, tZOrg, ZitadelInactive)
	base := serve(t, z)

	tok := clientToken(t, base, "reactivator", "s3cret")
	if tok.ExpiresIn != 43199 {
		t.Errorf("expires_in = %d, want 43199", tok.ExpiresIn)
	}
	if a := reactivateWith(t, base, tok.AccessToken); a.status != http.StatusOK || !sameJSONShape(t, a.body, ZitadelSuccess) || z.State(tUser) != ZitadelActive {
		t.Fatalf("reactivate with an issued token = %d %s, want 200 like %s", a.status, a.body, ZitadelSuccess)
	}

	tests := []struct {
		name      string
		form      url.Values
		auth      string
		status    int
		wantError string
	}{
		{name: "form_credentials", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"reactivator"}, "client_secret": {"s3cret"}, "scope": {apiScope}}, status: 200},
		{name: "wrong_secret", form: url.Values{"grant_type": {"client_credentials"}, "scope": {apiScope}}, auth: basic("reactivator", "wrong"), status: 401, wantError: "invalid_client"},
		{name: "unknown_client", form: url.Values{"grant_type": {"client_credentials"}, "scope": {apiScope}}, auth: basic("nobody", "s3cret"), status: 401, wantError: "invalid_client"},
		{name: "no_credentials", form: url.Values{"grant_type": {"client_credentials"}, "scope": {apiScope}}, status: 401, wantError: "invalid_client"},
		{name: "no_grant_type", form: url.Values{"scope": {apiScope}}, auth: basic("reactivator", "s3cret"), status: 400, wantError: "invalid_request"},
		{name: "password_grant", form: url.Values{"grant_type": {"password"}}, auth: basic("reactivator", "s3cret"), status: 400, wantError: "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := tokenCall(t, base, tt.form, tt.auth)
			var got struct {
				Error       string `json:"error"`
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal([]byte(a.body), &got); err != nil {
				t.Fatalf("token(%s) body %q: %v", tt.form.Encode(), a.body, err)
			}
			if a.status != tt.status || got.Error != tt.wantError || (tt.status == 200) != (got.AccessToken != "") {
				t.Errorf("token(%s) = %d %s, want %d error %q", tt.form.Encode(), a.status, a.body, tt.status, tt.wantError)
			}
			if a.header.Get("Content-Type") != "application/json" || a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("token(%s) headers %v, want application/json and no-store", tt.form.Encode(), a.header)
			}
		})
	}

	// A token without the API audience scope does not open the API.
	a := tokenCall(t, base, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, basic("reactivator", "s3cret"))
	var narrow tokenAnswer
	if err := json.Unmarshal([]byte(a.body), &narrow); err != nil || a.status != 200 {
		t.Fatalf("token without API scope = %d %s, want 200", a.status, a.body)
	}
	z.AddUser(tUser, tZOrg, ZitadelInactive)
	if a := reactivateWith(t, base, narrow.AccessToken); a.status != http.StatusUnauthorized || a.body != caseNamed(t, "zitadel_v2/bad_token").Body {
		t.Errorf("reactivate with a token without %s = %d %s, want 401 AUTH-7fs1e", ZitadelAPIScope, a.status, a.body)
	}
}

// signer signs JWT profile assertions with a key file's key.
type signer struct {
	kf  KeyFile
	key *rsa.PrivateKey
}

func newSigner(t *testing.T, keyFile []byte) signer {
	t.Helper()
	var kf KeyFile
	if err := json.Unmarshal(keyFile, &kf); err != nil {
		t.Fatalf("key file %s: %v", keyFile, err)
	}
	block, _ := pem.Decode([]byte(kf.Key))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("key file's key is not an RSA PRIVATE KEY PEM block: %q", kf.Key)
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("ParsePKCS1PrivateKey: %v", err)
	}
	return signer{kf: kf, key: key}
}

func (s signer) sign(t *testing.T, kid string, claims jwt.RegisteredClaims, method jwt.SigningMethod, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	if key == nil {
		key = s.key
	}
	out, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign assertion: %v", err)
	}
	return out
}

func TestZitadelJWTProfile(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	keyFile, err := z.AddKey("400907376431009999", tZOrg)
	if err != nil {
		t.Fatalf("AddKey: %v", err)
	}
	s := newSigner(t, keyFile)
	if s.kf.Type != "serviceaccount" || s.kf.UserID != "400907376431009999" || s.kf.KeyID == "" {
		t.Fatalf("key file = %s, want type serviceaccount, the user id and a key id", keyFile)
	}
	base := serve(t, z)
	now := time.Now()
	good := jwt.RegisteredClaims{Issuer: s.kf.UserID, Subject: s.kf.UserID, Audience: jwt.ClaimStrings{base},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	with := func(change func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := good
		change(&c)
		return c
	}

	tests := []struct {
		name      string
		assertion string
		status    int
		wantError string
	}{
		{name: "valid", assertion: s.sign(t, s.kf.KeyID, good, jwt.SigningMethodRS256, nil), status: 200},
		{name: "audience_with_slash", assertion: s.sign(t, s.kf.KeyID, with(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"https://elsewhere", base + "/"} }), jwt.SigningMethodRS256, nil), status: 200},
		{name: "other_key", assertion: s.sign(t, s.kf.KeyID, good, jwt.SigningMethodRS256, other), status: 400, wantError: "invalid_grant"},
		{name: "unknown_kid", assertion: s.sign(t, "123", good, jwt.SigningMethodRS256, nil), status: 400, wantError: "invalid_grant"},
		{name: "hs256", assertion: s.sign(t, s.kf.KeyID, good, jwt.SigningMethodHS256, []byte("secret")), status: 400, wantError: "invalid_grant"},
		{name: "wrong_audience", assertion: s.sign(t, s.kf.KeyID, with(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"https://acme.zitadel.cloud"} }), jwt.SigningMethodRS256, nil), status: 400, wantError: "invalid_grant"},
		{name: "expired", assertion: s.sign(t, s.kf.KeyID, with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), jwt.SigningMethodRS256, nil), status: 400, wantError: "invalid_grant"},
		{name: "no_expiry", assertion: s.sign(t, s.kf.KeyID, with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil }), jwt.SigningMethodRS256, nil), status: 400, wantError: "invalid_grant"},
		{name: "other_subject", assertion: s.sign(t, s.kf.KeyID, with(func(c *jwt.RegisteredClaims) { c.Subject = "1" }), jwt.SigningMethodRS256, nil), status: 400, wantError: "invalid_grant"},
		{name: "not_a_jwt", assertion: "abc", status: 400, wantError: "invalid_grant"},
		{name: "missing", assertion: "", status: 400, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := tokenCall(t, base, url.Values{"grant_type": {jwtBearerGrant}, "scope": {apiScope}, "assertion": {tt.assertion}}, "")
			var got struct {
				Error       string `json:"error"`
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal([]byte(a.body), &got); err != nil {
				t.Fatalf("jwt-bearer token body %q: %v", a.body, err)
			}
			if a.status != tt.status || got.Error != tt.wantError {
				t.Fatalf("jwt-bearer token = %d %s, want %d error %q", a.status, a.body, tt.status, tt.wantError)
			}
			if tt.status != 200 {
				return
			}
			me := call(t, plain, http.MethodGet, base+"/auth/v1/users/me", map[string]string{"Authorization": "Bearer " + got.AccessToken}, "")
			if me.status != http.StatusOK || !strings.Contains(me.body, `"id":"`+s.kf.UserID+`"`) || !strings.Contains(me.body, `"resourceOwner":"`+tZOrg+`"`) {
				t.Errorf("users/me with the issued token = %d %s, want 200 for user %s of org %s", me.status, me.body, s.kf.UserID, tZOrg)
			}
		})
	}
}

func TestZitadelRevokeTokens(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	z.AddToken(tPAT, tZOrg)
	z.AddClient("reactivator", "s3cret", tZOrg)
	base := serve(t, z)
	issued := clientToken(t, base, "reactivator", "s3cret").AccessToken
	badToken := caseNamed(t, "zitadel_v2/bad_token")
	for _, tok := range []string{tPAT, issued} {
		z.AddUser(tUser, tZOrg, ZitadelInactive)
		if a := reactivateWith(t, base, tok); a.status != http.StatusOK {
			t.Fatalf("reactivate before RevokeTokens = %d %s, want 200", a.status, a.body)
		}
	}
	z.RevokeTokens()
	z.AddUser(tUser, tZOrg, ZitadelInactive)
	for _, tok := range []string{tPAT, issued} {
		if a := reactivateWith(t, base, tok); a.status != badToken.Status || a.body != badToken.Body {
			t.Errorf("reactivate after RevokeTokens = %d %s, want %d %s", a.status, a.body, badToken.Status, badToken.Body)
		}
	}
	if got := z.State(tUser); got != ZitadelInactive {
		t.Errorf("State after revoked calls = %q, want inactive", got)
	}
	fresh := clientToken(t, base, "reactivator", "s3cret").AccessToken
	if a := reactivateWith(t, base, fresh); a.status != http.StatusOK {
		t.Errorf("reactivate with a token issued after RevokeTokens = %d %s, want 200", a.status, a.body)
	}
}

func TestZitadelClientCredentialsWithOAuth2(t *testing.T) {
	t.Parallel()
	const secret = "a+b/c=d%e f"
	z := NewZitadel("")
	z.AddClient("reactivator@acme", secret, tZOrg)
	z.AddUser(tUser, tZOrg, ZitadelInactive)
	base := serve(t, z)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := clientcredentials.Config{ClientID: "reactivator@acme", ClientSecret: secret, TokenURL: base + "/oauth/v2/token",
			Scopes: strings.Fields(apiScope), AuthStyle: style}
		tok, err := cfg.Token(context.Background())
		if err != nil {
			t.Fatalf("clientcredentials.Token with auth style %d: %v", style, err)
		}
		z.AddUser(tUser, tZOrg, ZitadelInactive)
		if a := reactivateWith(t, base, tok.AccessToken); a.status != http.StatusOK {
			t.Errorf("reactivate with the x/oauth2 token (auth style %d) = %d %s, want 200", style, a.status, a.body)
		}
	}
	cfg := clientcredentials.Config{ClientID: "reactivator@acme", ClientSecret: "wrong", TokenURL: base + "/oauth/v2/token", Scopes: strings.Fields(apiScope)}
	var re *oauth2.RetrieveError
	if _, err := cfg.Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("clientcredentials.Token with a wrong secret: %v, want a RetrieveError invalid_client", err)
	}
}
