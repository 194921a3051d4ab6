// A Client is responsible for sending one Stytch call with the project's credentials and
// classifying its answer: Classify turns one Stytch answer (status, headers, body) into a
// jobs.Result.

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
	"unicode"

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

// Hints appended to the message of a fatal answer: what the operator has to fix.
const (
	hintCredentials = "check STYTCH_PROJECT_ID and STYTCH_SECRET"
	hintEnvironment = "the project id and secret belong to different environments or the base URL is for the other one: check STYTCH_PROJECT_ID, STYTCH_SECRET and STYTCH_BASE_URL"
	hintBaseURL     = "wrong base URL, check STYTCH_BASE_URL"
	hintSession     = "the member session given lacks the permission to reactivate members: drop it or use another member's session"
	hintHTTPS       = "Stytch refuses plain http: use an https STYTCH_BASE_URL"
	hintForbidden   = "Stytch or a proxy in front of it refused the call: check STYTCH_PROJECT_ID, STYTCH_SECRET and STYTCH_BASE_URL"
)

// maxMessage bounds Result.Message, in runes: it lands in reports and logs.
const maxMessage = 300

// maxRequestID bounds Result.RequestID, in runes; Stytch's are about 50.
const maxRequestID = 100

// errorTypes maps every Stytch error_type of docs/providers.md to its class. An error_type
// decides the class whatever the HTTP status; a type not listed here falls back to the status.
var errorTypes = map[string]jobs.Class{
	"no_deleted_member_found_for_reactivation":     jobs.ClassNotDeactivated,
	"email_unverified_for_reactivation":            jobs.ClassUnverifiedEmail,
	"reactivation_email_belongs_to_another_member": jobs.ClassRejected,

	"member_not_found":                      jobs.ClassNotFound,
	"organization_not_found":                jobs.ClassNotFound,
	"member_does_not_exist_in_organization": jobs.ClassNotFound,
	"invalid_organization_slug":             jobs.ClassNotFound,
	"invalid_organization_external_id":      jobs.ClassNotFound,

	"invalid_organization_id":             jobs.ClassRejected,
	"invalid_id":                          jobs.ClassRejected,
	"bad_request":                         jobs.ClassRejected,
	"organization_suspended":              jobs.ClassRejected,
	"session_authorization_tenancy_error": jobs.ClassRejected,

	"unauthorized_credentials":          jobs.ClassFatal,
	"unauthorized_credentials_homepage": jobs.ClassFatal,
	"invalid_secret_authentication":     jobs.ClassFatal,
	"invalid_project_id_authentication": jobs.ClassFatal,
	"invalid_project_id":                jobs.ClassFatal,
	"unauthorized_project_id_live":      jobs.ClassFatal,
	"unauthorized_project_id_test":      jobs.ClassFatal,
	"session_authorization_error":       jobs.ClassFatal,
	"use_https":                         jobs.ClassFatal,

	"too_many_requests":     jobs.ClassTransient,
	"internal_server_error": jobs.ClassTransient,
}

// fatalHints says what to fix for each fatal error_type.
var fatalHints = map[string]string{
	"unauthorized_project_id_live": hintEnvironment,
	"unauthorized_project_id_test": hintEnvironment,
	"session_authorization_error":  hintSession,
	"use_https":                    hintHTTPS,
}

// errorBody is Stytch's error answer; request_id is also in every success answer.
type errorBody struct {
	StatusCode   int    `json:"status_code"`
	RequestID    string `json:"request_id"`
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
}

// successBody is the part of Stytch's Reactivate Member answer that proves it came from Stytch.
type successBody struct {
	RequestID string `json:"request_id"`
	MemberID  string `json:"member_id"`
	Member    *struct {
		MemberID string `json:"member_id"`
		Status   string `json:"status"`
	} `json:"member"`
}

// Classify sorts one Stytch answer to Reactivate Member into a class (docs/providers.md).
// It reads nothing but its arguments; a Retry-After given as an HTTP date is measured against
// the answer's Date header, or the clock when there is none.
//
//   - 200 and 201 with a Stytch member in the body are reactivated. A 2xx without one (a captive
//     portal, a proxy that ate the body) proves nothing: transient and ambiguous, so the retry's
//     answer decides.
//   - Otherwise a known error_type decides, whatever the status.
//   - Without a known error_type the status decides: 401, 403, 404, 405, 407 and 3xx are fatal;
//     408, 429 and 5xx transient; any other 4xx rejected.
//
// 5xx answers and transient internal_server_error types are Ambiguous (the change may have been
// made); 429 is not. Message is the provider's error_message, or a short text for answers
// without one; it never holds the body of a non-JSON answer.
func Classify(status int, header http.Header, body []byte) jobs.Result {
	r := jobs.Result{HTTPStatus: status, Called: true}
	if status >= 200 && status < 300 {
		return classifySuccess(r, status, body)
	}

	var eb errorBody
	isJSON := json.Unmarshal(body, &eb) == nil
	if isJSON {
		r.RequestID = clean(eb.RequestID, maxRequestID)
		r.ErrorType = clean(eb.ErrorType, maxRequestID)
		r.Message = clean(eb.ErrorMessage, maxMessage)
	}
	if v := header.Get("Retry-After"); v != "" {
		r.RetryAfter = httpapi.ParseRetryAfter(v, answerTime(header))
	}

	if class, ok := errorTypes[r.ErrorType]; ok && r.ErrorType != "" {
		r.Class = class
		switch class {
		case jobs.ClassFatal:
			hint := fatalHints[r.ErrorType]
			if hint == "" {
				hint = hintCredentials
			}
			r.Message = withHint(r.Message, r.ErrorType, hint)
		case jobs.ClassTransient:
			// A rate limit refused the call before it ran; server trouble may have come after the change.
			r.Ambiguous = r.ErrorType != "too_many_requests" && (status >= 500 || r.ErrorType == "internal_server_error")
		}
		return r
	}

	if r.Message == "" {
		r.Message = statusText(status, header, isJSON)
	}
	switch {
	case status >= 300 && status < 400:
		// A redirect of an API call means the base URL points at a web page or an old host.
		// The client never follows it: credentials must not travel to wherever it points.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, "", hintBaseURL)
	case status == http.StatusUnauthorized, status == http.StatusProxyAuthRequired:
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, r.ErrorType, hintCredentials)
	case status == http.StatusForbidden:
		// An unknown 403 is fatal. Stytch's confirmed 403s either stop every row alike
		// (session_authorization_error, use_https) or are known types handled above; a 403 without
		// a known type is most likely a WAF, proxy or permission refusal that every following row
		// would get too. Pausing costs the operator one `resume`; guessing "rejected" could burn
		// the whole run.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, r.ErrorType, hintForbidden)
	case status == http.StatusNotFound && r.ErrorType == "":
		// Stytch always names the missing thing in error_type; a bare 404 is a wrong host or path
		// and would otherwise mark every row not_found.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, "", hintBaseURL)
	case status == http.StatusMethodNotAllowed && r.ErrorType == "":
		// Stytch's route takes PUT: a 405 comes from something else answering at the base URL.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, "", hintBaseURL)
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		r.Class = jobs.ClassTransient
	case status >= 400 && status < 500:
		r.Class = jobs.ClassRejected
	case status >= 500 && status < 600:
		r.Class = jobs.ClassTransient
		r.Ambiguous = true
	default:
		// 1xx or a status outside HTTP's range: nothing says what happened.
		r.Class = jobs.ClassTransient
		r.Ambiguous = true
	}
	return r
}

// classifySuccess classifies a 2xx answer: reactivated only when the body shows a Stytch member.
func classifySuccess(r jobs.Result, status int, body []byte) jobs.Result {
	var sb successBody
	err := json.Unmarshal(body, &sb)
	if err == nil {
		r.RequestID = clean(sb.RequestID, maxRequestID)
	}
	memberID := sb.MemberID
	if memberID == "" && sb.Member != nil {
		memberID = sb.Member.MemberID
	}
	switch {
	case err != nil || memberID == "":
		// Something answered 2xx without a Stytch member: the call may or may not have reached
		// Stytch. A retry gets a real answer ("not deactivated" then confirms the change).
		r.Class = jobs.ClassTransient
		r.Ambiguous = true
		r.Message = fmt.Sprintf("HTTP %d without a Stytch member in the body: retrying to learn the outcome", status)
	case status != http.StatusOK && status != http.StatusCreated:
		// Stytch answers 200; a member in another 2xx is odd enough for the operator to look at.
		r.Class = jobs.ClassRejected
		r.Message = fmt.Sprintf("unexpected HTTP %d with a member body: check the member in Stytch", status)
	default:
		r.Class = jobs.ClassReactivated
		if sb.Member != nil && sb.Member.Status != "" {
			r.Message = "member status " + clean(sb.Member.Status, 40)
		}
	}
	return r
}

// answerTime is the answer's Date header, the reference for a Retry-After date; the clock without one.
func answerTime(h http.Header) time.Time {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t
	}
	return time.Now()
}

// statusText describes an answer that carries no error_message.
func statusText(status int, h http.Header, isJSON bool) string {
	s := fmt.Sprintf("HTTP %d", status)
	if t := http.StatusText(status); t != "" {
		s += " " + t
	}
	if !isJSON {
		ct := h.Get("Content-Type")
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = ct[:i]
		}
		if ct = clean(strings.TrimSpace(ct), 60); ct != "" {
			s += " (" + ct + " answer, not Stytch's JSON)"
		} else {
			s += " (not Stytch's JSON)"
		}
	}
	if status >= 300 && status < 400 {
		if loc := clean(h.Get("Location"), 200); loc != "" {
			s += " to " + loc
		}
	}
	return s
}

// withHint appends what to fix to a fatal answer's message, naming the error type when known.
func withHint(msg, errorType, hint string) string {
	switch {
	case msg == "" && errorType == "":
		return hint
	case msg == "":
		return errorType + ": " + hint
	}
	return msg + ": " + hint
}

// clean makes provider text safe for a one-line report cell: valid UTF-8, no control characters,
// at most max runes.
func clean(s string, max int) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, c := range s {
		if n == max {
			b.WriteRune('…')
			break
		}
		if unicode.IsControl(c) {
			c = ' '
		}
		b.WriteRune(c)
		n++
	}
	return strings.TrimSpace(b.String())
}
