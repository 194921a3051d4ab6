// This file holds the fake ZITADEL's token endpoint: OAuth2 client credentials and the JWT profile
// (jwt-bearer) grant of service-user keys.

package fakeidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ZitadelAPIScope is the scope a token needs to call ZITADEL's APIs: a token issued without it
// is refused by the reactivate endpoints (401 AUTH-7fs1e), as its audience lacks the API.
const ZitadelAPIScope = "urn:zitadel:iam:org:project:id:zitadel:aud"

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

type zitadelClient struct{ secret, userID, orgID string }

type zitadelKey struct {
	userID, orgID string
	pub           *rsa.PublicKey
}

// KeyFile is the JSON of a ZITADEL service-user key file.
type KeyFile struct {
	Type   string `json:"type"`
	KeyID  string `json:"keyId"`
	Key    string `json:"key"`
	UserID string `json:"userId"`
}

// iamOwner is the role of service users added with AddClient and AddKey.
var iamOwner = []string{RoleIAMOwner}

// RevokeKey deletes a service-user key by its key id: assertions signed with it are refused
// (invalid_grant) from then on. Tokens it already got stay valid until RevokeTokens.
func (z *Zitadel) RevokeKey(keyID string) {
	z.state.Lock()
	defer z.state.Unlock()
	delete(z.keys, keyID)
}

// AddClient adds a service user of organization orgID, IAM_OWNER, with client credentials: POST
// /oauth/v2/token with grant_type=client_credentials and Basic clientID:secret (or client_id and
// client_secret in the form) issues its tokens.
func (z *Zitadel) AddClient(clientID, secret, orgID string) {
	z.state.Lock()
	defer z.state.Unlock()
	z.orgs[orgID] = true
	z.clients[clientID] = zitadelClient{secret: secret, userID: z.newID(), orgID: orgID}
}

// AddKey generates an RSA key for service user userID (IAM_OWNER) of organization orgID and returns its key
// file ({"type":"serviceaccount","keyId","key" (PKCS#1 PEM),"userId"}). The jwt-bearer grant at
// /oauth/v2/token then accepts assertions signed RS256 with it: kid the key id, iss and sub the
// user id, aud the instance's issuer URL (scheme and Host of the token request), exp and iat set.
func (z *Zitadel) AddKey(userID, orgID string) (keyFileJSON []byte, err error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate service-user key: %w", err)
	}
	z.state.Lock()
	keyID := z.newID()
	z.orgs[orgID] = true
	z.keys[keyID] = zitadelKey{userID: userID, orgID: orgID, pub: &priv.PublicKey}
	z.state.Unlock()
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	return json.Marshal(KeyFile{Type: "serviceaccount", KeyID: keyID, Key: string(pemKey), UserID: userID})
}

// SetTokenTTL sets the lifetime of tokens issued from now on (12h by default); past it they are
// refused like revoked ones.
func (z *Zitadel) SetTokenTTL(d time.Duration) {
	z.state.Lock()
	defer z.state.Unlock()
	z.ttl = d
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// token serves POST /oauth/v2/token.
func (z *Zitadel) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		z.oauthError(w, http.StatusBadRequest, "invalid_request", "request body is not a form")
		return
	}
	var p principal
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
		c, ok := z.client(r)
		if !ok {
			z.oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
			return
		}
		p = principal{userID: c.userID, orgID: c.orgID, iamRoles: iamOwner}
	case jwtBearerGrant:
		assertion := r.PostForm.Get("assertion")
		if assertion == "" {
			z.oauthError(w, http.StatusBadRequest, "invalid_request", "assertion missing")
			return
		}
		k, err := z.verifyAssertion(assertion, issuer(r))
		if err != nil {
			z.oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
			return
		}
		p = principal{userID: k.userID, orgID: k.orgID, iamRoles: iamOwner}
	case "":
		z.oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type missing")
		return
	default:
		z.oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+strconv.Quote(gt)+" is not supported")
		return
	}
	p.noAPI = !hasScope(r.PostForm.Get("scope"), ZitadelAPIScope)
	var tok [32]byte
	_, _ = rand.Read(tok[:])
	token := base64.RawURLEncoding.EncodeToString(tok[:])
	z.state.Lock()
	ttl := z.ttl
	p.expires = z.now().Add(ttl)
	z.tokens[token] = p
	z.state.Unlock()
	body, _ := json.Marshal(tokenAnswer{AccessToken: token, TokenType: "Bearer", ExpiresIn: max(int(ttl/time.Second)-1, 0)})
	z.reply(w, &zHeaders[apiPlain][1], http.StatusOK, string(body))
}

func (z *Zitadel) oauthError(w http.ResponseWriter, status int, code, description string) {
	body, _ := json.Marshal(oauthError{Error: code, Description: description})
	z.reply(w, &zHeaders[apiPlain][1], status, string(body))
}

// client authenticates a client by Basic auth or by client_id and client_secret in the form.
// Basic credentials are accepted form-encoded (RFC 6749 2.3.1, as x/oauth2 sends them) or raw.
func (z *Zitadel) client(r *http.Request) (zitadelClient, bool) {
	z.state.RLock()
	defer z.state.RUnlock()
	match := func(id, secret string) (zitadelClient, bool) {
		c, ok := z.clients[id]
		return c, ok && secret != "" && secret == c.secret
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		return match(r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"))
	}
	if c, ok := match(id, secret); ok {
		return c, true
	}
	uid, err1 := url.QueryUnescape(id)
	usecret, err2 := url.QueryUnescape(secret)
	if err1 != nil || err2 != nil {
		return zitadelClient{}, false
	}
	return match(uid, usecret)
}

// issuer is the instance's issuer URL as the request reached it.
func issuer(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func hasScope(scopes, want string) bool {
	for _, s := range strings.Fields(scopes) {
		if s == want {
			return true
		}
	}
	return false
}

// verifyAssertion checks a JWT profile assertion and returns the key that signed it.
func (z *Zitadel) verifyAssertion(assertion, iss string) (zitadelKey, error) {
	var key zitadelKey
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		z.state.RLock()
		k, ok := z.keys[kid]
		z.state.RUnlock()
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		key = k
		return k.pub, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(z.now))
	if err != nil {
		return key, fmt.Errorf("assertion invalid: %w", err)
	}
	if claims.Issuer != key.userID || claims.Subject != key.userID {
		return key, errors.New("assertion invalid: iss and sub must be the key's user id")
	}
	for _, a := range claims.Audience {
		if strings.TrimSuffix(a, "/") == iss {
			return key, nil
		}
	}
	return key, fmt.Errorf("assertion invalid: audience must contain %s", iss)
}
