// This file reads one user: GET /v2/users/{id}, or on a server without it the v1 GET
// /management/v1/users/{id} (docs/providers.md, "Reading a user").

package zitadel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"reactivator/jobs"
)

// readNotFoundID is the read's answer for a removed or never-existing user (v1 and v2 alike).
const readNotFoundID = "QUERY-Dfbg2"

// userStates maps ZITADEL's user states onto ours.
var userStates = map[string]jobs.AccountState{
	"USER_STATE_ACTIVE":   jobs.StateActive,
	"USER_STATE_INACTIVE": jobs.StateDeactivated,
	"USER_STATE_LOCKED":   jobs.StateLocked,
	"USER_STATE_INITIAL":  jobs.StateInitial,
	"USER_STATE_DELETED":  jobs.StateNotFound,
}

// ReadAccount reads the user of row r (jobs.Reader). It uses GET /v2/users/{id}, which needs no
// organization header. A client of ZITADEL_API=v1 tries it too, and when the server has no such
// route (404, 405 or 501 without an error id) reads with GET /management/v1/users/{id} in the
// row's organization (its org_id, else ZITADEL_ORG_ID, else the service user's own) from then on.
//
// A removed or never-existing user is State StateNotFound with no error. The error wraps
// jobs.ErrFatal when the credentials or the URL are refused, the service user has no role at
// all (AUTHZ-cdgFk), or a 403 comes to a service user that may write users nowhere (as
// Reactivate's fatal class); any other error (a 403 for a user of an organisation the service
// user may not read, transport, 5xx) means the read gave nothing usable.
func (c *Client) ReadAccount(ctx context.Context, r jobs.Row) (jobs.Account, error) {
	if r.Provider != jobs.Zitadel {
		return jobs.Account{}, fmt.Errorf("zitadel read: not a ZITADEL row (provider %q)", r.Provider)
	}
	if err := r.Validate(); err != nil {
		return jobs.Account{}, errors.New("zitadel read: " + c.scrub(err.Error(), ""))
	}
	esc := url.PathEscape(r.UserID)
	if !c.readV1.Load() {
		ans, tok, res, ok := c.send(ctx, http.MethodGet, "/v2/users/"+esc, "")
		if !ok {
			return jobs.Account{}, c.readError(r, res.Class, res.Message)
		}
		if c.api != APIv1 || !noRoute(ans) {
			return c.readAnswer(ctx, APIv2, r, ans, tok)
		}
		c.readV1.Store(true)
	}
	org := r.OrgID
	if org == "" {
		org = c.defaultOrg
	}
	ans, tok, res, ok := c.send(ctx, http.MethodGet, "/management/v1/users/"+esc, org)
	if !ok {
		return jobs.Account{}, c.readError(r, res.Class, res.Message)
	}
	return c.readAnswer(ctx, APIv1, r, ans, tok)
}

// noRoute reports whether an answer says the server has no such route: 404, 405 or 501 (or
// gRPC code 12) without any error id.
func noRoute(ans reply) bool {
	a := parseAnswer(ans.body)
	if len(a.ids) > 0 {
		return false
	}
	return ans.status == http.StatusNotFound || ans.status == http.StatusMethodNotAllowed ||
		ans.status == http.StatusNotImplemented || a.code == codeUnimplemented
}

// readError is the error of a read whose answer was classified c with message msg.
func (c *Client) readError(r jobs.Row, class jobs.Class, msg string) error {
	if class == jobs.ClassFatal {
		return fmt.Errorf("zitadel read of user %s: %s: %w", r.UserID, msg, jobs.ErrFatal)
	}
	return fmt.Errorf("zitadel read of user %s: %s", r.UserID, msg)
}

// User is a user as ZITADEL answers it, as far as the tool reads it: in a read (v2 names the id
// userId, v1 id) and in each result of ListUsers (POST /v2/users), which find lists too.
type User struct {
	UserID  string       `json:"userId"`
	ID      string       `json:"id"`
	State   string       `json:"state"`
	Details *UserDetails `json:"details"`
	Human   *struct {
		Email struct {
			Email string `json:"email"`
		} `json:"email"`
	} `json:"human"`
}

// UserDetails are a user's details: its organization and when it last changed.
type UserDetails struct {
	ChangeDate    string `json:"changeDate"`
	ResourceOwner string `json:"resourceOwner"`
}

// Email is the user's email; "" for a machine user.
func (u User) Email() string {
	if u.Human == nil {
		return ""
	}
	return u.Human.Email.Email
}

// Org is the id of the user's organization (its resource owner); "" when the answer gave none.
func (u User) Org() string {
	if u.Details == nil {
		return ""
	}
	return u.Details.ResourceOwner
}

// account is u as an account of the answer whose request id is reqID: its id, its state
// (jobs.StateUnknown for a state the tool does not know), email, organization and change time.
func (u User) account(reqID string) jobs.Account {
	a := jobs.Account{ID: u.UserID, Raw: u.State, Email: u.Email(), RequestID: reqID}
	if a.ID == "" {
		a.ID = u.ID
	}
	if a.State = userStates[u.State]; a.State == "" {
		a.State = jobs.StateUnknown
	}
	fillDetails(&a, u.Details)
	return a
}

// fillDetails sets a's organization and change time from d where a has none yet.
func fillDetails(a *jobs.Account, d *UserDetails) {
	if d == nil {
		return
	}
	if a.OrgID == "" {
		a.OrgID = d.ResourceOwner
	}
	if t, err := time.Parse(time.RFC3339Nano, d.ChangeDate); err == nil && a.ChangedAt.IsZero() {
		a.ChangedAt = t
	}
}

// userBody is the answer of a read: the user, and on v1 the details beside it.
type userBody struct {
	Details *UserDetails `json:"details"`
	User    *User        `json:"user"`
}

// readAnswer turns the answer of a read into an account or an error.
func (c *Client) readAnswer(ctx context.Context, api string, r jobs.Row, ans reply, tok string) (jobs.Account, error) {
	reqID := ans.header.Get("X-Request-Id")
	if ans.status == http.StatusOK {
		var b userBody
		if err := json.Unmarshal(ans.body, &b); err != nil || b.User == nil || b.User.State == "" {
			return jobs.Account{}, fmt.Errorf("zitadel read of user %s: HTTP 200 without a user: not ZITADEL's answer to a read", r.UserID)
		}
		a := b.User.account(reqID)
		fillDetails(&a, b.Details)
		return a, nil
	}
	parsed := parseAnswer(ans.body)
	if parsed.has(map[string]bool{readNotFoundID: true}) || parsed.has(notFoundIDs) {
		return jobs.Account{ID: r.UserID, State: jobs.StateNotFound, RequestID: reqID}, nil
	}
	res := Classify(api, r.OrgID != "", ans.status, ans.header, ans.body)
	res.Message = c.scrub(strings.Replace(res.Message, checkCredentialsAdvice, c.advice, 1), tok)
	if isPermissionDenied(ans.body) {
		// As for a reactivate: fatal only when the service user may write users nowhere.
		res = c.permissionAnswer(ctx, res)
	}
	return jobs.Account{}, c.readError(r, res.Class, res.Message)
}
