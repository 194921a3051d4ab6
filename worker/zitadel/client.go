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
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	return c.probeRole(ctx, "zitadel check", "it cannot reactivate anyone")
}

// probeRole probes the service user's permissions and returns Refusal's error, saying what
// follows (consequence), or the probe's; what prefixes either.
func (c *Client) probeRole(ctx context.Context, what, consequence string) error {
	p, err := c.Permissions(ctx)
	if err == nil {
		err = p.Refusal(consequence)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
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

// ZITADEL error detail ids that decide a class. Ids change between server versions, so both the
// v1 and the v2 command layer's ids are accepted on both paths.
var (
	// notInactiveIDs: the user exists but is not deactivated (v2, v1 and older ids).
	notInactiveIDs = map[string]bool{"COMMAND-s5qqcz97hf": true, "COMMAND-6M0sf": true}
	// notFoundIDs: the user does not exist or was removed. Only these make a 404 not_found.
	notFoundIDs = map[string]bool{"COMMAND-9hy5kzbuk6": true, "COMMAND-4M0sd": true, "COMMAND-k2unb": true}
	// alreadyInactiveIDs: deactivate of a user that is already deactivated (v2, v1).
	alreadyInactiveIDs = map[string]bool{"COMMAND-5gunjw0cd7": true, "COMMAND-5M0sf": true}
	// deactivateNotFoundIDs: deactivate of a user that does not exist or was removed (v2, v1),
	// besides the reactivate ones.
	deactivateNotFoundIDs = map[string]bool{"COMMAND-5gp2p62iin": true, "COMMAND-3M9ds": true,
		"COMMAND-9hy5kzbuk6": true, "COMMAND-4M0sd": true, "COMMAND-k2unb": true}
	// initialIDs: deactivate of an initial user, which can only be deleted (v2 answers 400, v1 404).
	initialIDs = map[string]bool{"COMMAND-gvx4kct9r2": true, "COMMAND-ke0fw": true}
)

// op is what one kind of call's answers mean: the ids that are "nothing to do" and "no such
// user", and the classes they and a success give.
type op struct {
	name          string
	success       jobs.Class
	nothing       map[string]bool
	nothingIs     jobs.Class
	notFound      map[string]bool
	impossible    map[string]bool // rejected whatever the status, with impossibleWhy
	impossibleWhy string
}

var (
	opReactivate = op{name: "reactivate", success: jobs.ClassReactivated, nothing: notInactiveIDs, nothingIs: jobs.ClassNotDeactivated, notFound: notFoundIDs}
	opDeactivate = op{name: "deactivate", success: jobs.ClassDeactivated, nothing: alreadyInactiveIDs, nothingIs: jobs.ClassNotActive,
		notFound: deactivateNotFoundIDs, impossible: initialIDs, impossibleWhy: "the user is in state initial: it can only be deleted, not deactivated"}
)

// orgNotFoundID is v1's answer to an x-zitadel-orgid naming no organisation.
const orgNotFoundID = "AUTH-Bs7Ds"

// noMembershipID is the 404 of a service user without any role ("membership not found"): a
// permission problem, never a missing user or a wrong host.
const noMembershipID = "AUTHZ-cdgFk"

// gRPC codes by their Connect names (connectrpc.com/connect's Code.String).
var connectCodes = map[string]int{
	"canceled": 1, "unknown": 2, "invalid_argument": 3, "deadline_exceeded": 4, "not_found": 5,
	"already_exists": 6, "permission_denied": 7, "resource_exhausted": 8, "failed_precondition": 9,
	"aborted": 10, "out_of_range": 11, "unimplemented": 12, "internal": 13, "unavailable": 14,
	"data_loss": 15, "unauthenticated": 16,
}

// The gRPC codes the classification looks at.
const (
	codeNone               = -1
	codeDeadlineExceeded   = 4
	codeNotFound           = 5
	codePermissionDenied   = 7
	codeResourceExhausted  = 8
	codeUnimplemented      = 12
	codeInternal           = 13
	codeUnavailable        = 14
	codeUnauthenticated    = 16
	maxMessageRunes        = 400
	maxQuotedRunes         = 200
	checkCredentialsAdvice = "check the ZITADEL credentials"
)

// answer is what Classify reads from a body: a grpc-gateway / Connect error or a success.
type answer struct {
	json    bool
	code    int
	message string
	ids     []string
	success bool // details is an object: ZITADEL's success body
}

// parseAnswer reads body leniently: a field of an unexpected type is skipped, not fatal.
func parseAnswer(body []byte) answer {
	a := answer{code: codeNone}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return a
	}
	a.json = true
	a.code = parseCode(top["code"])
	_ = json.Unmarshal(top["message"], &a.message)
	details := bytes.TrimSpace(top["details"])
	if len(details) > 0 && details[0] == '{' {
		a.success = true
		return a
	}
	var list []json.RawMessage
	_ = json.Unmarshal(details, &list)
	for _, raw := range list {
		var d struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		}
		var connect struct {
			Debug struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			} `json:"debug"`
		}
		_ = json.Unmarshal(raw, &d)
		_ = json.Unmarshal(raw, &connect)
		for _, id := range []string{d.ID, connect.Debug.ID} {
			if id != "" {
				a.ids = append(a.ids, id)
			}
		}
		if a.message == "" {
			a.message = d.Message
		}
	}
	return a
}

// parseCode reads a gRPC code given as a number (grpc-gateway) or a name (Connect).
func parseCode(raw json.RawMessage) int {
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		if n == math.Trunc(n) && n >= 0 && n <= 16 {
			return int(n)
		}
		return codeNone
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return codeNone
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if c, ok := connectCodes[s]; ok {
		return c
	}
	if c, err := strconv.Atoi(s); err == nil && c >= 0 && c <= 16 {
		return c
	}
	return codeNone
}

// has reports whether a detail id is in set.
func (a answer) has(set map[string]bool) bool {
	for _, id := range a.ids {
		if set[id] {
			return true
		}
	}
	return false
}

// errorType is the id that decided the class when there is one, else the first id.
func (a answer) errorType(o op) string {
	for _, id := range a.ids {
		if o.nothing[id] || o.notFound[id] || o.impossible[id] || id == orgNotFoundID || id == noMembershipID {
			return id
		}
	}
	if len(a.ids) > 0 {
		return a.ids[0]
	}
	return ""
}

// Classify sorts ZITADEL's answer to one reactivate call into a class, by HTTP status, gRPC code
// (a number, or a Connect name such as "failed_precondition") and error detail id, never by the
// message text. api is "v1" or "v2"; rowOrg is true when the row carried its own org_id (sent
// as x-zitadel-orgid on v1). It reads the clock only to resolve a Retry-After date.
//
// The rules, in order: 2xx with ZITADEL's details is reactivated (any other 2xx is transient and
// ambiguous: not confirmed); 3xx fatal; 401 or code 16 fatal; 429 or code 8 transient; 405, 501
// or code 12 fatal; 5xx or code 13/14 transient and ambiguous; 403 or code 7 fatal on v2, and on
// v1 not_found (unknown organisation AUTH-Bs7Ds) or rejected when the row named its own
// organisation, else fatal (Client.Reactivate then decides a ZITADEL code 7 by where the service
// user may write); AUTHZ-cdgFk (no role at all) fatal; a known user-not-found id not_found; any other 404 or code 5 fatal
// (a wrong ZITADEL_URL); a known not-inactive id not_deactivated; other 4xx rejected.
func Classify(api string, rowOrg bool, status int, header http.Header, body []byte) jobs.Result {
	return classify(opReactivate, api, rowOrg, status, header, body)
}

// ClassifyDeactivate sorts ZITADEL's answer to one deactivate call (for undo) as Classify does a
// reactivate's, with deactivate's ids: 2xx with details deactivated; already inactive
// (COMMAND-5gunjw0cd7, v1 COMMAND-5M0sf) not_active; an initial user (v2 400 COMMAND-gvx4kct9r2,
// v1 404 COMMAND-ke0fw) rejected; removed (COMMAND-5gp2p62iin, v1 COMMAND-3M9ds) not_found;
// everything else as for a reactivate (docs/providers.md, "Deactivate").
func ClassifyDeactivate(api string, rowOrg bool, status int, header http.Header, body []byte) jobs.Result {
	return classify(opDeactivate, api, rowOrg, status, header, body)
}

func classify(o op, api string, rowOrg bool, status int, header http.Header, body []byte) jobs.Result {
	res := jobs.Result{
		Called:     true,
		HTTPStatus: status,
		RequestID:  header.Get("X-Request-Id"),
		RetryAfter: httpapi.ParseRetryAfter(header.Get("Retry-After"), time.Now()),
	}
	a := parseAnswer(body)
	res.ErrorType = a.errorType(o)
	said := describe(status, header, a)
	set := func(c jobs.Class, msg string) jobs.Result {
		res.Class, res.Message = c, clip(msg)
		return res
	}
	switch {
	case status >= 200 && status < 300:
		if a.success {
			res.ErrorType = ""
			return set(o.success, "")
		}
		res.Ambiguous = true
		return set(jobs.ClassTransient, said+": not ZITADEL's answer to a "+o.name+" call, so the change is not confirmed")
	case status >= 300 && status < 400:
		loc := header.Get("Location")
		return set(jobs.ClassFatal, fmt.Sprintf("ZITADEL answered a redirect (%s to %q): check ZITADEL_URL (https and the instance's external domain)", said, loc))
	case status == http.StatusUnauthorized || a.code == codeUnauthenticated:
		return set(jobs.ClassFatal, "ZITADEL refused the credentials ("+said+"): "+checkCredentialsAdvice)
	case status == http.StatusTooManyRequests || a.code == codeResourceExhausted:
		return set(jobs.ClassTransient, "rate limited ("+said+")")
	case status == http.StatusRequestTimeout:
		return set(jobs.ClassTransient, said)
	case status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented || a.code == codeUnimplemented:
		return set(jobs.ClassFatal, "ZITADEL does not serve this call ("+said+"): check ZITADEL_URL and ZITADEL_API")
	case status >= 500 || a.code == codeInternal || a.code == codeUnavailable || a.code == codeDeadlineExceeded:
		res.Ambiguous = true
		return set(jobs.ClassTransient, said)
	case status == http.StatusForbidden || a.code == codePermissionDenied:
		return permissionDenied(res, api, rowOrg, a, said)
	case a.has(map[string]bool{noMembershipID: true}):
		res.Grant = grantRoles
		return set(jobs.ClassFatal, "the service user has no role at all ("+said+"): "+grantAdvice)
	case a.has(o.impossible):
		return set(jobs.ClassRejected, o.impossibleWhy+" ("+said+")")
	case a.has(o.notFound):
		return set(jobs.ClassNotFound, said)
	case status == http.StatusNotFound || a.code == codeNotFound:
		return set(jobs.ClassFatal, "ZITADEL answered not found without a user-not-found id ("+said+"): check ZITADEL_URL, it must be the instance's external domain")
	case a.has(o.nothing):
		return set(o.nothingIs, said)
	case status >= 400 && status < 500:
		return set(jobs.ClassRejected, said)
	}
	return set(jobs.ClassFatal, "not a ZITADEL answer ("+said+"): check ZITADEL_URL")
}

// permissionDenied classifies a 403 / code 7. v2 checks permission last, so its 7 always means
// the service user lacks user.write. v1 checks it first, in the x-zitadel-orgid organisation:
// for a row's own org_id the row is wrong, for the caller's or the default organisation the
// credentials are.
func permissionDenied(res jobs.Result, api string, rowOrg bool, a answer, said string) jobs.Result {
	res.Class = jobs.ClassFatal
	switch {
	case api == APIv1 && rowOrg && a.has(map[string]bool{orgNotFoundID: true}):
		res.Class, res.Message = jobs.ClassNotFound, "the row's org_id names no organisation ("+said+")"
	case api == APIv1 && rowOrg:
		res.Class, res.Message = jobs.ClassRejected, "no permission in the row's organisation ("+said+"): the service user needs user.write there"
	case api == APIv1 && a.has(map[string]bool{orgNotFoundID: true}):
		res.Message = "the organisation of ZITADEL_ORG_ID does not exist (" + said + "): check ZITADEL_ORG_ID"
	default:
		res.Message, res.Grant = "the service user lacks permission ("+said+"): "+grantAdvice, grantRoles
	}
	res.Message = clip(res.Message)
	return res
}

// describe says what came back, for a message: the status and ZITADEL's message, or the
// content type of a body that is no ZITADEL answer.
func describe(status int, header http.Header, a answer) string {
	s := fmt.Sprintf("HTTP %d", status)
	switch {
	case a.message != "":
		s += ": " + clipTo(a.message, maxQuotedRunes)
	case !a.json:
		if ct, _, err := mime.ParseMediaType(header.Get("Content-Type")); err == nil {
			s += " with a " + ct + " body"
		} else if t := http.StatusText(status); t != "" {
			s += " " + t
		}
	}
	return s
}

// clip shortens a message to maxMessageRunes, keeping it valid UTF-8.
func clip(s string) string { return clipTo(s, maxMessageRunes) }

// clipTo shortens s to max runes, keeping it valid UTF-8.
func clipTo(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}
