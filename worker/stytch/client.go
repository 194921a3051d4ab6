// A Client is responsible for sending one Stytch call with the project's credentials and
// classifying its answer.

package stytch

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"reactivator/internal/httpapi"
	"reactivator/internal/secretfile"
	"reactivator/jobs"
)

// Client calls Stytch's B2B API with project credentials. It is safe for concurrent use.
type Client struct {
	projectID string
	secret    string
	env       string
	base      *url.URL
	timeout   time.Duration
	session   string
	jwt       string
	hc        *http.Client
	// secrets are scrubbed from every text a Client returns, belt and braces.
	secrets []string
	// secretFile, when set, holds the secret instead of secret and follows rotations.
	secretFile *secretfile.File
	// orgIDs remembers the canonical id of each organization a lookup named by slug or external
	// id (resolve.go).
	orgIDs sync.Map
}

// New validates cfg and returns a Client. The base URL defaults from the project id's environment.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env, _ := projectEnv(cfg.ProjectID)
	raw := cfg.BaseURL
	if raw == "" {
		raw = TestBaseURL
		if env == "live" {
			raw = LiveBaseURL
		}
	}
	base, err := httpapi.ParseBaseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("stytch config: BaseURL: %w", err)
	}
	hc, timeout := httpapi.ClientFor(cfg.HTTPClient, cfg.Timeout)
	c := &Client{
		projectID: cfg.ProjectID, secret: cfg.Secret, env: env, base: base, timeout: timeout,
		session: cfg.MemberSession, jwt: cfg.MemberSessionJWT, hc: hc,
	}
	if cfg.SecretFile != "" {
		f, err := secretfile.Open(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("stytch config: SecretFile (STYTCH_SECRET_FILE): %w", err)
		}
		c.secretFile = f
	}
	c.secrets = []string{cfg.Secret, base64.StdEncoding.EncodeToString([]byte(cfg.ProjectID + ":" + cfg.Secret))}
	for _, s := range []string{cfg.MemberSession, cfg.MemberSessionJWT} {
		if s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
	return c, nil
}

// Env returns the project's environment, "test" or "live".
func (c *Client) Env() string { return c.env }

// BaseURL returns the base URL calls go to, for messages such as "checking https://test.stytch.com".
func (c *Client) BaseURL() string { return c.base.String() }

// String describes the client without its secrets.
func (c *Client) String() string {
	return fmt.Sprintf("stytch.Client{ProjectID: %q, Env: %s, BaseURL: %q}", c.projectID, c.env, c.base.String())
}

// Format prints String for every verb, so no verb reaches the secret.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs the client without its secrets.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("project_id", c.projectID), slog.String("env", c.env), slog.String("base_url", c.base.String()))
}

// Reactivate reactivates the row's member: PUT
// {base}/v1/b2b/organizations/{organization_id}/members/{member_id}/reactivate with body {}.
//
// A row that is not a valid Stytch row, or whose ids belong to the other environment, is refused
// before any call: Class rejected, Called false. An answer is classified by Classify; a call
// without an answer by httpapi.TransportResult (transient; Ambiguous unless it never connected).
// A context already done returns transient with Called false. The Result never holds the secret
// or a session token, even when something in between echoes them.
func (c *Client) Reactivate(ctx context.Context, r jobs.Row) jobs.Result {
	if err := c.checkRow(r); err != nil {
		return jobs.Result{Class: jobs.ClassRejected, Message: c.scrub(err.Error())}
	}
	if r.NeedsLookup() {
		return jobs.Result{Class: jobs.ClassRejected, Message: "the row has no member_id: its email must be resolved first (Resolve)"}
	}
	if ctx.Err() != nil {
		return jobs.Result{Class: jobs.ClassTransient, Message: "call interrupted before it was sent"}
	}
	escaped := c.base.EscapedPath() + "/v1/b2b/organizations/" + url.PathEscape(r.OrgID) +
		"/members/" + url.PathEscape(r.MemberID) + "/reactivate"
	status, header, body, err := c.send(ctx, http.MethodPut, escaped, "", "{}")
	var res jobs.Result
	switch {
	case errors.Is(err, errPathChanged):
		return jobs.Result{Class: jobs.ClassRejected, Message: "the ids would change the URL's path"}
	case err != nil:
		res = httpapi.TransportResult(err)
	default:
		res = Classify(status, header, body)
	}
	res.Called = true
	res.Message = c.scrub(res.Message)
	res.ErrorType = c.scrub(res.ErrorType)
	res.RequestID = c.scrub(res.RequestID)
	return res
}

// checkRow refuses a row this client must not send.
func (c *Client) checkRow(r jobs.Row) error {
	if r.Provider != jobs.Stytch {
		return fmt.Errorf("row of provider %q given to the Stytch client", r.Provider)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return r.CheckStytchEnv(c.env)
}

// Check proves the credentials and the base URL with a read-only call: POST
// {base}/v1/b2b/organizations/search with body {"limit":1}. It returns nil on a 200 from Stytch.
// An answer that would stop the queue (refused credentials, a wrong base URL) returns an error
// wrapping jobs.ErrFatal that says what to fix; any other failure returns a plain error.
func (c *Client) Check(ctx context.Context) error {
	status, header, body, err := c.send(ctx, http.MethodPost, c.base.EscapedPath()+"/v1/b2b/organizations/search", "", `{"limit":1}`)
	if err != nil {
		return &scrubbedError{msg: "stytch check: " + c.scrub(httpapi.Redact(err)), err: err}
	}
	if status == http.StatusOK {
		var sb struct {
			RequestID     string           `json:"request_id"`
			Organizations *json.RawMessage `json:"organizations"`
		}
		if json.Unmarshal(body, &sb) != nil || (sb.RequestID == "" && sb.Organizations == nil) {
			return fmt.Errorf("stytch check: %s answered 200 but not like Stytch: %s: %w", c.base.Redacted(), hintBaseURL, jobs.ErrFatal)
		}
		return nil
	}
	res := Classify(status, header, body)
	msg := c.scrub(res.Message)
	if res.RequestID != "" {
		msg += " (request " + c.scrub(res.RequestID) + ")"
	}
	if res.Class == jobs.ClassFatal {
		return fmt.Errorf("stytch check: %s: %w", msg, jobs.ErrFatal)
	}
	return fmt.Errorf("stytch check: HTTP %d: %s", status, msg)
}

// errPathChanged means a URL built from ids did not keep the path it was built with.
var errPathChanged = errors.New("the ids would change the URL's path")

// send makes one call with the client's credentials and headers, bounded by its timeout, and
// reads the answer. escapedPath is already escaped, rawQuery already encoded; the call is
// refused with errPathChanged if the URL does not carry exactly that path and query.
func (c *Client) send(ctx context.Context, method, escapedPath, rawQuery, body string) (int, http.Header, []byte, error) {
	target := c.base.Scheme + "://" + c.base.Host + escapedPath
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader([]byte(body)))
	if err != nil || req.URL.EscapedPath() != escapedPath || req.URL.RawQuery != rawQuery || req.URL.Fragment != "" {
		return 0, nil, nil, errPathChanged
	}
	httpapi.SetCommonHeaders(req.Header)
	if c.session != "" {
		req.Header.Set("X-Stytch-Member-Session", c.session)
	}
	if c.jwt != "" {
		req.Header.Set("X-Stytch-Member-SessionJWT", c.jwt)
	}
	for try := 0; ; try++ {
		req.SetBasicAuth(c.projectID, c.currentSecret())
		resp, err := c.hc.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		b := httpapi.ReadBody(resp)
		// A 401 changed nothing: when the secret file holds a new secret (rotated since the last
		// look), the call is made once more with it.
		if resp.StatusCode == http.StatusUnauthorized && try == 0 && c.secretFile != nil && c.secretFile.Reload() {
			req = req.Clone(ctx)
			req.Body = io.NopCloser(strings.NewReader(body))
			continue
		}
		return resp.StatusCode, resp.Header, b, nil
	}
}

// currentSecret is the secret to send: the secret file's current value, else Config.Secret.
func (c *Client) currentSecret() string {
	if c.secretFile != nil {
		return c.secretFile.Value()
	}
	return c.secret
}

// scrub removes the client's secrets from a text it is about to return.
func (c *Client) scrub(s string) string {
	secrets := c.secrets
	if c.secretFile != nil {
		for _, v := range c.secretFile.Seen() {
			secrets = append(secrets[:len(secrets):len(secrets)], v, base64.StdEncoding.EncodeToString([]byte(c.projectID+":"+v)))
		}
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// scrubbedError is a transport error whose text went through scrub; it still unwraps to the cause
// so callers can test for context.Canceled and the like.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
