// This file resolves a row without a user id: ListUsers (POST /v2/users) with one exact
// emailQuery, loginNameQuery or userNameQuery (docs/providers.md, "Listing users").

package zitadel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"reactivator/jobs"
)

// lookupLimit is how many matches a lookup asks for: one is the answer, more say "ambiguous"
// and are listed in the row's message.
const lookupLimit = 20

// LookupBody is the ListUsers body that resolves a lookup: users whose email, login name or user
// name (l) equals value exactly, of organization org when it is not empty. Every lookup body is
// built here: the server ignores a misspelt field silently (a misspelt "queries" lists every
// user).
func LookupBody(l jobs.Lookup, value, org string, limit int) ([]byte, error) {
	type text struct {
		EmailAddress string `json:"emailAddress,omitempty"`
		LoginName    string `json:"loginName,omitempty"`
		UserName     string `json:"userName,omitempty"`
		Method       string `json:"method"`
	}
	q := text{Method: "TEXT_QUERY_METHOD_EQUALS"}
	var name string
	switch l {
	case jobs.LookupEmail:
		name, q.EmailAddress = "emailQuery", value
	case jobs.LookupLoginName:
		name, q.LoginName = "loginNameQuery", value
	case jobs.LookupUsername:
		name, q.UserName = "userNameQuery", value
	default:
		return nil, fmt.Errorf("zitadel: no lookup by %q", l)
	}
	queries := []any{map[string]any{name: q}}
	if org != "" {
		queries = append(queries, map[string]any{"organizationIdQuery": map[string]string{"organizationId": org}})
	}
	return json.Marshal(map[string]any{
		"query":   map[string]any{"offset": "0", "limit": limit, "asc": true},
		"queries": queries,
	})
}

// Resolve finds the users row r names by its lookup (jobs.Resolver) with one ListUsers call:
// none, one, or several (at most 20). ListUsers shows only the users the service user may read,
// so no match means none it may read. A row that is not a ZITADEL lookup row is refused before
// any call. The error wraps jobs.ErrFatal when the credentials or the URL are refused or the
// service user has no role at all (AUTHZ-cdgFk; then it is a *jobs.RoleError naming the roles
// to grant); any other error means the read gave nothing usable.
func (c *Client) Resolve(ctx context.Context, r jobs.Row) ([]jobs.Account, error) {
	if r.Provider != jobs.Zitadel || !r.NeedsLookup() {
		return nil, fmt.Errorf("zitadel lookup: line %d is not a ZITADEL row without a user id", r.Line)
	}
	if err := r.Validate(); err != nil {
		return nil, errors.New("zitadel lookup: " + c.scrub(err.Error(), ""))
	}
	body, err := LookupBody(r.Lookup, r.LookupValue, r.OrgID, lookupLimit)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("zitadel lookup of %s %s", r.Lookup, r.LookupValue)
	ans, tok, err := c.call(ctx, http.MethodPost, "/v2/users", body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	reqID := ans.header.Get("X-Request-Id")
	if ans.status == http.StatusOK {
		var b struct {
			Details *json.RawMessage `json:"details"`
			Result  []User           `json:"result"`
		}
		if json.Unmarshal(ans.body, &b) != nil || b.Details == nil {
			return nil, fmt.Errorf("%s: HTTP 200 without a list: not ZITADEL's answer to ListUsers: check ZITADEL_URL", what)
		}
		out := make([]jobs.Account, 0, len(b.Result))
		for _, u := range b.Result {
			out = append(out, u.account(reqID))
		}
		return out, nil
	}
	res := Classify(APIv2, r.OrgID != "", ans.status, ans.header, ans.body)
	res.Message = c.scrub(strings.Replace(res.Message, checkCredentialsAdvice, c.advice, 1), tok)
	if isPermissionDenied(ans.body) {
		// As for a reactivate: fatal only when the service user may write users nowhere.
		res = c.permissionAnswer(ctx, res)
	}
	if res.Class != jobs.ClassFatal {
		return nil, fmt.Errorf("%s: %s", what, res.Message)
	}
	err = fmt.Errorf("%s: %s: %w", what, res.Message, jobs.ErrFatal)
	if res.Grant != "" {
		return nil, &jobs.RoleError{Grant: res.Grant, Err: err}
	}
	return nil, err
}

// CheckLookups is the permission check find and plan make before they read (Permissions, then
// Refusal), for a worker to make before its first lookup (worker.LookupChecker): ListUsers
// answers a service user without any role 200 with only itself, so its lookups find no one
// where they should stop the run, and a viewer's find users it cannot reactivate. It returns nil
// when the service user may write users somewhere; an error wrapping jobs.ErrFatal when the
// credentials are refused or it may write users nowhere (then a *jobs.RoleError naming the role
// to grant); another error when the probe could not finish. Its answer holds for the
// credentials CredentialsID names at the time.
func (c *Client) CheckLookups(ctx context.Context) error {
	return c.probeRole(ctx, "zitadel lookups", "no row can be reactivated and the worker looks no one up")
}

// CredentialsID identifies the credentials the client sends now (worker.LookupChecker): a digest
// of the token file's or key file's current content, never the secret itself, so a rotation
// of ZITADEL_TOKEN_FILE or ZITADEL_KEY_FILE, which may hand the client another service user,
// changes it. Credentials from the environment cannot change: "" for them.
func (c *Client) CredentialsID() string {
	var v string
	switch {
	case c.keys != nil && c.keys.file != nil:
		v = c.keys.file.Value()
	case len(c.files) > 0:
		v = c.files[0].Value()
	default:
		return ""
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
