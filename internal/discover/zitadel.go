// This file finds ZITADEL's inactive users: ListUsers (POST /v2/users, stateQuery
// USER_STATE_INACTIVE, by organization and email domain, paged by offset) and, for the time and
// editor filters, the user.deactivated events of POST /admin/v1/events/_search.

package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// DefaultPageSize is how many users or events one call asks for (the events API's maximum).
const DefaultPageSize = 1000

// ErrNoEventsRead is the events API's refusal: the service user lacks events.read. It wraps
// jobs.ErrFatal.
var ErrNoEventsRead = fmt.Errorf("the ZITADEL service user may not read events: --deactivated-after, --deactivated-before and --deactivated-by need the events.read permission (the role IAM_OWNER); grant it, or leave those filters out: %w", jobs.ErrFatal)

// ErrWindow is a time window whose start is after its end.
var ErrWindow = errors.New("--deactivated-after is later than --deactivated-before: the window is empty")

// ZitadelQuery says which inactive users to find. The zero value finds every inactive user the
// service user may read.
type ZitadelQuery struct {
	// Orgs limits the users to these organizations; empty means all.
	Orgs []string
	// EmailDomain keeps users whose email ends with "@" + EmailDomain (case-insensitive).
	EmailDomain string
	// After and Before keep users deactivated at or after After and before Before (zero: open).
	After, Before time.Time
	// By keeps users deactivated by this user id.
	By string
	// PageSize is the users or events asked for per call; 0 means DefaultPageSize.
	PageSize int
	// Progress gets a line per page; nil means none.
	Progress io.Writer
}

// usesEvents reports whether the query needs the events API.
func (q ZitadelQuery) usesEvents() bool { return !q.After.IsZero() || !q.Before.IsZero() || q.By != "" }

// Validate checks the query without calling anything.
func (q ZitadelQuery) Validate() error {
	if !q.After.IsZero() && !q.Before.IsZero() && q.After.After(q.Before) {
		return ErrWindow
	}
	if q.PageSize < 0 || q.PageSize > DefaultPageSize {
		return fmt.Errorf("PageSize %d: want 0 to %d", q.PageSize, DefaultPageSize)
	}
	if strings.Contains(q.EmailDomain, "@") {
		return fmt.Errorf("--email-domain %q: give the domain only, e.g. example.com", q.EmailDomain)
	}
	return nil
}

func (q ZitadelQuery) pageSize() int {
	if q.PageSize == 0 {
		return DefaultPageSize
	}
	return q.PageSize
}

// deactivation is who deactivated a user and when.
type deactivation struct{ at, by string }

// ZitadelCaller is the ZITADEL client find needs: calls, and the read-only look-up of where the
// service user may write users (worker/zitadel.Client is one).
type ZitadelCaller interface {
	Caller
	Permissions(ctx context.Context) (zitadel.Permissions, error)
}

// Zitadel finds the inactive users of q through c, in ListUsers' order. It first looks up where
// the service user may reactivate users, as plan does, and refuses one that may nowhere (an
// error wrapping jobs.ErrFatal that names the role to grant): ZITADEL answers such a service
// user's ListUsers with 200 and only itself (no role at all) or only users it could not
// reactivate, so the list would be empty or useless without a word. The look-up's calls are not
// counted in Result.Calls.
func Zitadel(ctx context.Context, c ZitadelCaller, q ZitadelQuery) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	perms, err := c.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	if err := perms.Refusal("find would list no one a run could reactivate"); err != nil {
		return nil, err
	}
	res := &Result{Provider: string(jobs.Zitadel), Header: ZitadelColumns}
	var events map[string]deactivation
	if q.usesEvents() {
		var err error
		if events, err = zitadelEvents(ctx, c, q, res); err != nil {
			return nil, err
		}
	}
	suffix := "@" + strings.ToLower(q.EmailDomain)
	for offset := 0; ; {
		var page struct {
			Details struct {
				TotalResult string `json:"totalResult"`
			} `json:"details"`
			Result []zitadel.User `json:"result"`
		}
		if err := zitadelPost(ctx, c, "/v2/users", ListUsersBody(q, offset, q.pageSize()), &page, res); err != nil {
			return nil, err
		}
		for _, u := range page.Result {
			email := u.Email()
			if q.EmailDomain != "" && !strings.HasSuffix(strings.ToLower(email), suffix) {
				continue
			}
			var d deactivation
			if events != nil {
				var ok bool
				if d, ok = events[u.UserID]; !ok {
					continue
				}
			}
			res.Rows = append(res.Rows, []string{u.UserID, u.Org(), email, zitadelState(u.State), d.at, d.by})
		}
		offset += len(page.Result)
		progress(q.Progress, "zitadel: %d inactive users listed (of %s), %d kept", offset, orZero(page.Details.TotalResult), len(res.Rows))
		if len(page.Result) < q.pageSize() {
			return res, nil
		}
	}
}

// ListUsersBody is the body of one ListUsers page: inactive users, of the given organizations,
// whose email ends with the domain. Every list body is built here: the server ignores a
// misspelt field silently (a misspelt "queries" lists every user).
func ListUsersBody(q ZitadelQuery, offset, limit int) []byte {
	type text struct {
		EmailAddress string `json:"emailAddress"`
		Method       string `json:"method"`
	}
	queries := []any{map[string]any{"stateQuery": map[string]string{"state": "USER_STATE_INACTIVE"}}}
	switch len(q.Orgs) {
	case 0:
	case 1:
		queries = append(queries, map[string]any{"organizationIdQuery": map[string]string{"organizationId": q.Orgs[0]}})
	default:
		var or []any
		for _, o := range q.Orgs {
			or = append(or, map[string]any{"organizationIdQuery": map[string]string{"organizationId": o}})
		}
		queries = append(queries, map[string]any{"orQuery": map[string]any{"queries": or}})
	}
	if q.EmailDomain != "" {
		queries = append(queries, map[string]any{"emailQuery": text{EmailAddress: "@" + q.EmailDomain, Method: "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE"}})
	}
	b, _ := json.Marshal(map[string]any{
		"query":         map[string]any{"offset": strconv.Itoa(offset), "limit": limit, "asc": true},
		"sortingColumn": "USER_FIELD_NAME_CREATION_DATE",
		"queries":       queries,
	})
	return b
}

// EventsBody is the body of one page of user.deactivated events, oldest first, in the window
// [since, until) and by the editor of q; one organization is filtered by the server.
func EventsBody(q ZitadelQuery, since, until time.Time, limit int) []byte {
	body := map[string]any{
		"eventTypes": []string{"user.deactivated"},
		"range":      map[string]string{"since": since.UTC().Format(time.RFC3339Nano), "until": until.UTC().Format(time.RFC3339Nano)},
		"asc":        true,
		"limit":      limit,
	}
	if q.By != "" {
		body["editorUserId"] = q.By
	}
	if len(q.Orgs) == 1 {
		body["resourceOwner"] = q.Orgs[0]
	}
	b, _ := json.Marshal(body)
	return b
}

// zitadelEvents reads the user.deactivated events of q's window and editor: the latest one per
// user. Only who and when are kept; payloads are never read.
func zitadelEvents(ctx context.Context, c Caller, q ZitadelQuery, res *Result) (map[string]deactivation, error) {
	since, until := q.After, q.Before
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	if until.IsZero() {
		until = time.Now().Add(time.Minute)
	}
	out := map[string]deactivation{}
	seen := map[string]bool{}
	n := 0
	for {
		var page struct {
			Events []struct {
				Editor struct {
					UserID string `json:"userId"`
				} `json:"editor"`
				Aggregate struct {
					ID            string `json:"id"`
					ResourceOwner string `json:"resourceOwner"`
				} `json:"aggregate"`
				CreationDate time.Time `json:"creationDate"`
			} `json:"events"`
		}
		if err := zitadelPost(ctx, c, "/admin/v1/events/_search", EventsBody(q, since, until, q.pageSize()), &page, res); err != nil {
			return nil, err
		}
		fresh := 0
		for _, e := range page.Events {
			key := e.Aggregate.ID + "@" + e.CreationDate.String()
			if seen[key] {
				continue
			}
			seen[key] = true
			fresh++
			since = e.CreationDate
			if len(q.Orgs) > 1 && !contains(q.Orgs, e.Aggregate.ResourceOwner) {
				continue
			}
			out[e.Aggregate.ID] = deactivation{at: e.CreationDate.UTC().Format(time.RFC3339Nano), by: e.Editor.UserID}
		}
		n += fresh
		progress(q.Progress, "zitadel: %d deactivation events read", n)
		if len(page.Events) < q.pageSize() {
			return out, nil
		}
		if fresh == 0 {
			// A whole page at one instant already seen: step past it (the server keeps microseconds).
			since = since.Add(time.Microsecond)
		}
	}
}

// zitadelPost POSTs body to path and decodes a 200 into out; a refusal becomes an error that
// says what to do (events.read, the role, the credentials), classified by the answer's id.
func zitadelPost(ctx context.Context, c Caller, path string, body []byte, out any, res *Result) error {
	res.Calls++
	status, b, err := c.Call(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("zitadel: POST %s answered 200 but not like ZITADEL: check ZITADEL_URL", path)
		}
		return nil
	}
	id := zitadelErrorID(b)
	switch {
	case path != "/v2/users" && (id == "AUTH-5mWD2" || id == "AUTHZ-cdgFk"):
		return ErrNoEventsRead
	case id == "AUTHZ-cdgFk":
		return fmt.Errorf("zitadel: POST %s: the service user has no role (AUTHZ-cdgFk): grant it ORG_USER_MANAGER or IAM_USER_MANAGER: %w", path, jobs.ErrFatal)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("zitadel: POST %s answered %d %s: check the ZITADEL credentials and the service user's roles: %w", path, status, id, jobs.ErrFatal)
	}
	return fmt.Errorf("zitadel: POST %s answered %d %s", path, status, id)
}

// zitadelErrorID is details[0].id of an error body, "" when there is none.
func zitadelErrorID(b []byte) string {
	var e struct {
		Details []struct {
			ID string `json:"id"`
		} `json:"details"`
	}
	if json.Unmarshal(b, &e) != nil || len(e.Details) == 0 {
		return ""
	}
	return e.Details[0].ID
}

// zitadelState is the short state name of USER_STATE_X: x in lower case.
func zitadelState(s string) string {
	return strings.ToLower(strings.TrimPrefix(s, "USER_STATE_"))
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// ParseTime reads a window bound: RFC 3339, or a duration ago ("2h", "90m") before now.
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-30T14:02:00Z) nor a duration ago (2h)", s)
}
