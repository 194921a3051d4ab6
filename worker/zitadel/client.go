// Package zitadel is reactivator's REST client for ZITADEL's reactivate user call: v2
// POST {base}/v2/users/{user_id}/reactivate (the default) or the deprecated v1
// POST {base}/management/v1/users/{id}/_reactivate, authenticated with a personal access token,
// client credentials or a JWT profile key, and the classification of every answer
// (docs/providers.md).
//
// A Client is responsible for making one call per Reactivate and saying what its answer means.
package zitadel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"reactivator/internal/httpapi"
	"reactivator/internal/secretfile"
	"reactivator/jobs"
)

// Client calls one ZITADEL instance. It is safe for concurrent use.
type Client struct {
	base       string // no trailing slash
	api        string
	defaultOrg string
	timeout    time.Duration
	hc         *http.Client
	tokens     tokenSource
	// advice says what to check when ZITADEL or its token endpoint refuses the credentials.
	advice string
	// secrets are scrubbed from every message, in case an answer or error ever quotes one.
	secrets []string
	// readV1 is set once a v1 client learnt that the server has no v2 read.
	readV1 atomic.Bool
	// perms is the last permission probe's answer.
	perms permsCache // files are the secret files the client follows (ZITADEL_TOKEN_FILE); keys the key file's.
	files []*secretfile.File
	keys  *keySource
}

// New returns a Client for cfg. It validates cfg and reads and parses the key file, but calls
// nothing: Check proves the credentials. ctx is not kept.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, err := httpapi.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("zitadel: BaseURL (ZITADEL_URL): %w", err)
	}
	hc, timeout := httpapi.ClientFor(cfg.HTTPClient, cfg.Timeout)
	c := &Client{
		base:       strings.TrimRight(u.String(), "/"),
		api:        cfg.api(),
		defaultOrg: cfg.DefaultOrgID,
		timeout:    timeout,
		hc:         hc,
	}
	tokenURL := c.base + "/oauth/v2/token"
	switch {
	case cfg.TokenFile != "":
		f, err := secretfile.Open(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("zitadel: TokenFile (ZITADEL_TOKEN_FILE): %w", err)
		}
		c.tokens = fileToken{f}
		c.files = append(c.files, f)
		c.advice = "check ZITADEL_TOKEN_FILE (a personal access token of a service user)"
	case cfg.Token != "":
		c.tokens = staticToken(cfg.Token)
		c.advice = "check ZITADEL_TOKEN (a personal access token of a service user)"
		c.secrets = append(c.secrets, cfg.Token)
	case cfg.ClientID != "":
		c.tokens = newCachedToken(clientCredentialsFetch(tokenURL, cfg.ClientID, cfg.ClientSecret, hc))
		c.advice = "check ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET (a service user's client credentials)"
		c.secrets = append(c.secrets, cfg.ClientSecret)
	default:
		ks := &keySource{name: "KeyJSON"}
		if cfg.KeyFile != "" {
			ks.name = cfg.KeyFile
			if ks.file, err = secretfile.Open(cfg.KeyFile); err != nil {
				return nil, fmt.Errorf("zitadel: KeyFile (ZITADEL_KEY_FILE): %w", err)
			}
		} else {
			ks.raw = string(cfg.KeyJSON)
		}
		if _, err := ks.get(); err != nil {
			return nil, err
		}
		ct := newCachedToken(jwtProfileFetch(tokenURL, c.base, ks, hc))
		if ks.file != nil {
			// ZITADEL refused a token: the key file may have been rotated since the last look.
			ct.onInvalidate = func() { ks.file.Reload() }
		}
		c.tokens = ct
		c.keys = ks
		c.advice = "check ZITADEL_KEY_FILE (a service user's key, not expired or deleted)"
	}
	return c, nil
}

// Reactivate reactivates the user of row r and classifies the answer. A row whose ids could
// change the URL, or that is not a ZITADEL row, is refused before any call: Class rejected,
// Called false. A token that could not be fetched gives Called false too (transient, or fatal
// when the token endpoint refused the credentials); nothing was sent, so it is not ambiguous.
// A 401 to a fetched token is retried once with a fresh token.
func (c *Client) Reactivate(ctx context.Context, r jobs.Row) jobs.Result {
	return c.change(ctx, r, opReactivate)
}

// Deactivate deactivates the user of row r (for undo) and classifies the answer with
// ClassifyDeactivate: v2 POST {base}/v2/users/{id}/deactivate, v1 POST
// {base}/management/v1/users/{id}/_deactivate with x-zitadel-orgid as for Reactivate. Refusals
// before the call, tokens, 401 retries and permission answers are as for Reactivate.
func (c *Client) Deactivate(ctx context.Context, r jobs.Row) jobs.Result {
	return c.change(ctx, r, opDeactivate)
}

// change makes the reactivate or deactivate call of o for row r.
func (c *Client) change(ctx context.Context, r jobs.Row, o op) jobs.Result {
	if r.Provider != jobs.Zitadel {
		return jobs.Result{Class: jobs.ClassRejected, Message: fmt.Sprintf("not a ZITADEL row (provider %q)", r.Provider)}
	}
	if err := r.Validate(); err != nil {
		return jobs.Result{Class: jobs.ClassRejected, Message: c.scrub(err.Error(), "")}
	}
	if r.NeedsLookup() {
		return jobs.Result{Class: jobs.ClassRejected, Message: fmt.Sprintf("the row has no user_id: its %s must be resolved first (Resolve)", r.Lookup)}
	}
	path := "/v2/users/" + url.PathEscape(r.UserID) + "/" + o.name
	org := ""
	if c.api == APIv1 {
		path = "/management/v1/users/" + url.PathEscape(r.UserID) + "/_" + o.name
		org = r.OrgID
		if org == "" {
			org = c.defaultOrg
		}
	}
	ans, tok, res, ok := c.send(ctx, http.MethodPost, path, org)
	if !ok {
		return res
	}
	res = classify(o, c.api, r.OrgID != "", ans.status, ans.header, ans.body)
	res.Message = c.scrub(strings.Replace(res.Message, checkCredentialsAdvice, c.advice, 1), tok)
	return c.decide(ctx, res, ans, org)
}

// decide finishes a classified answer with what Classify cannot know: a code 7 depends on where
// the service user may write (permissionAnswer), and a v1 "not found" without an organisation
// header may be a user of another organisation.
func (c *Client) decide(ctx context.Context, res jobs.Result, ans reply, org string) jobs.Result {
	switch {
	case isPermissionDenied(ans.body):
		return c.permissionAnswer(ctx, res)
	case res.Class == jobs.ClassNotFound && c.api == APIv1 && org == "":
		res.Message = clip(res.Message + ": v1 looks only in the service user's own organisation; the user may live in another: give the row's org_id, or use ZITADEL_API=v2")
	}
	return res
}

// Check proves the credentials and the base URL with the read-only GET {base}/auth/v1/users/me,
// then probes the service user's permissions (Permissions): nil when it may write users in at
// least one organisation (Scope then says where). An error wrapping jobs.ErrFatal means the
// credentials or the URL are wrong (401, a refused token request, an answer that is not
// ZITADEL's) or the service user has user.write nowhere (the error names the role to grant);
// other errors (unreachable, 5xx, 429) may pass.
func (c *Client) Check(ctx context.Context) error {
	ans, tok, res, ok := c.send(ctx, http.MethodGet, "/auth/v1/users/me", "")
	if !ok {
		if res.Class == jobs.ClassFatal {
			return fmt.Errorf("zitadel check: %s: %w", res.Message, jobs.ErrFatal)
		}
		return fmt.Errorf("zitadel check: %s", res.Message)
	}
	if ans.status == http.StatusOK {
		var me struct {
			User json.RawMessage `json:"user"`
		}
		if json.Unmarshal(ans.body, &me) == nil && bytes.HasPrefix(bytes.TrimSpace(me.User), []byte("{")) {
			return c.checkPermissions(ctx)
		}
		return fmt.Errorf("zitadel check: %s answered 200 but not like ZITADEL: check ZITADEL_URL, it must be the instance's external domain: %w", c.base, jobs.ErrFatal)
	}
	res = Classify(APIv2, false, ans.status, ans.header, ans.body)
	msg := c.scrub(strings.Replace(res.Message, checkCredentialsAdvice, c.advice, 1), tok)
	if res.Class == jobs.ClassFatal {
		return fmt.Errorf("zitadel check: %s: %w", msg, jobs.ErrFatal)
	}
	return fmt.Errorf("zitadel check: GET /auth/v1/users/me: %s", msg)
}

// reply is an HTTP answer, read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send makes one authenticated call to base+path with body {} for a POST, x-zitadel-orgid org
// when not empty. It returns the answer and the token it sent, or, with ok false, the result of
// a call that got no answer (token or transport failure).
// When ZITADEL answers 401 to a fetched token, the token is dropped and the call made once
// more with a fresh one: a 401 changed nothing on the server.
func (c *Client) send(ctx context.Context, method, path, org string) (reply, string, jobs.Result, bool) {
	ans, tok, res, ok := c.sendOnce(ctx, method, path, org)
	if ok && ans.status == http.StatusUnauthorized && c.tokens.invalidate(tok) {
		return c.sendOnce(ctx, method, path, org)
	}
	return ans, tok, res, ok
}

func (c *Client) sendOnce(ctx context.Context, method, path, org string) (reply, string, jobs.Result, bool) {
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	tok, err := c.tokens.token(tctx)
	cancel()
	if err != nil {
		res := tokenResult(err, c.advice)
		res.Message = c.scrub(res.Message, "")
		return reply{}, "", res, false
	}
	ctx, cancel = context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader = http.NoBody
	if method == http.MethodPost {
		body = bytes.NewReader([]byte("{}"))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return reply{}, tok, jobs.Result{Class: jobs.ClassFatal, Message: c.scrub("zitadel: cannot build the request: "+httpapi.Redact(err), tok)}, false
	}
	httpapi.SetCommonHeaders(req.Header)
	req.Header.Set("Authorization", "Bearer "+tok)
	if org != "" {
		req.Header.Set("x-zitadel-orgid", org)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		res := httpapi.TransportResult(err)
		res.Message = c.scrub(res.Message, tok)
		return reply{}, tok, res, false
	}
	b := httpapi.ReadBody(resp)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, tok, jobs.Result{}, true
}

// scrub replaces any secret the client holds, and tok, the token of the call, with [redacted].
func (c *Client) scrub(s, tok string) string {
	secrets := append(c.secrets[:len(c.secrets):len(c.secrets)], tok)
	for _, f := range c.files {
		secrets = append(secrets, f.Seen()...)
	}
	if c.keys != nil {
		secrets = append(secrets, c.keys.pems()...)
	}
	for _, v := range secrets {
		if len(v) >= 8 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// checkPermissions is Check's permission probe.
func (c *Client) checkPermissions(ctx context.Context) error {
	p, err := c.Permissions(ctx)
	if err != nil {
		return fmt.Errorf("zitadel check: %w", err)
	}
	if !p.Anywhere() {
		return fmt.Errorf("zitadel check: the service user %s, so it cannot reactivate anyone: %s: %w", p, grantAdvice, jobs.ErrFatal)
	}
	return nil
}

// Scope says where the service user may write users, as the last permission probe found
// ("" before any probe).
func (c *Client) Scope() string {
	c.perms.mu.Lock()
	defer c.perms.mu.Unlock()
	if c.perms.perms == nil {
		return ""
	}
	return c.perms.perms.String()
}
