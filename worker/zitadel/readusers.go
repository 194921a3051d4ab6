// This file reads many users in one call, for plan: ListUsers (POST /v2/users) with one
// inUserIdsQuery of up to 1,000 ids (docs/providers.md, "Listing users").

package zitadel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"reactivator/jobs"
)

// MaxReadUsers is the most ids one ReadUsers call asks for.
const MaxReadUsers = 1000

// ErrNoListUsers says the server has no POST /v2/users (an old, v1-only server): read the users
// one by one with ReadAccount.
var ErrNoListUsers = errors.New("zitadel: the server does not serve POST /v2/users (ListUsers)")

// UserIDsBody is the ListUsers body that reads the users of ids, all of them on one page. Every
// body of this query is built here: the server ignores a misspelt field silently (a misspelt
// "queries" lists every user).
func UserIDsBody(ids []string) []byte {
	b, _ := json.Marshal(map[string]any{
		"query":   map[string]any{"offset": "0", "limit": len(ids), "asc": true},
		"queries": []any{map[string]any{"inUserIdsQuery": map[string][]string{"userIds": ids}}},
	})
	return b
}

// ReadUsers reads the users of ids (at most MaxReadUsers) with one ListUsers call and returns
// the accounts it found, in the server's order. ZITADEL lists only the users the service user
// may read, so an id missing from the answer is a user that does not exist or that the service
// user may not read: ReadAccount tells which. A removed user is not listed.
//
// The error wraps jobs.ErrFatal when the credentials or the URL are refused or the service user
// has no role at all (AUTHZ-cdgFk); it is ErrNoListUsers when the server has no such route; any
// other error (transport, 429, 5xx, an answer that is not ZITADEL's) may pass on a retry.
func (c *Client) ReadUsers(ctx context.Context, ids []string) ([]jobs.Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxReadUsers {
		return nil, fmt.Errorf("zitadel read of %d users: at most %d a call", len(ids), MaxReadUsers)
	}
	ans, tok, err := c.call(ctx, http.MethodPost, "/v2/users", UserIDsBody(ids))
	if err != nil {
		return nil, fmt.Errorf("zitadel read of %d users: %w", len(ids), err)
	}
	status, header, body := ans.status, ans.header, ans.body
	if status != http.StatusOK {
		if noRoute(ans) {
			return nil, ErrNoListUsers
		}
		res := Classify(APIv2, false, status, header, body)
		msg := c.scrub(strings.Replace(res.Message, checkCredentialsAdvice, c.advice, 1), tok)
		if res.Class == jobs.ClassFatal {
			return nil, fmt.Errorf("zitadel read of %d users: %s: %w", len(ids), msg, jobs.ErrFatal)
		}
		return nil, fmt.Errorf("zitadel read of %d users: %s", len(ids), msg)
	}
	var list struct {
		Result []User `json:"result"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("zitadel read of %d users: HTTP 200 but not ZITADEL's answer to ListUsers: check ZITADEL_URL", len(ids))
	}
	reqID := header.Get("X-Request-Id")
	out := make([]jobs.Account, 0, len(list.Result))
	for _, u := range list.Result {
		if u.UserID == "" || u.State == "" {
			continue
		}
		out = append(out, u.account(reqID))
	}
	return out, nil
}

// OwnOrg returns the service user's own organisation (GET /auth/v1/users/me,
// user.details.resourceOwner): where a v1 call acts when neither the row nor ZITADEL_ORG_ID names
// one. Errors are as ReadUsers'.
func (c *Client) OwnOrg(ctx context.Context) (string, error) {
	ans, tok, err := c.call(ctx, http.MethodGet, "/auth/v1/users/me", nil)
	if err != nil {
		return "", fmt.Errorf("zitadel read of the service user: %w", err)
	}
	var me struct {
		User struct {
			Details struct {
				ResourceOwner string `json:"resourceOwner"`
			} `json:"details"`
		} `json:"user"`
	}
	if ans.status == http.StatusOK && json.Unmarshal(ans.body, &me) == nil && me.User.Details.ResourceOwner != "" {
		return me.User.Details.ResourceOwner, nil
	}
	if ans.status == http.StatusOK {
		return "", fmt.Errorf("zitadel read of the service user: HTTP 200 but not ZITADEL's answer: check ZITADEL_URL: %w", jobs.ErrFatal)
	}
	res := Classify(APIv2, false, ans.status, ans.header, ans.body)
	msg := c.scrub(strings.Replace(res.Message, checkCredentialsAdvice, c.advice, 1), tok)
	if res.Class == jobs.ClassFatal {
		return "", fmt.Errorf("zitadel read of the service user: %s: %w", msg, jobs.ErrFatal)
	}
	return "", fmt.Errorf("zitadel read of the service user: %s", msg)
}
