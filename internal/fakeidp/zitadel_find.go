// This file holds the fake ZITADEL's listing and audit trail as a real server answers them:
// POST /v2/users (ListUsers, with its query objects and paging) and POST /admin/v1/events/_search
// (user.deactivated events with who and when), and the events a deactivate records
// (docs/providers.md, "Listing users" and "Who deactivated whom").

package fakeidp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ZitadelEvent is a user.deactivated event of the fake's audit trail.
type ZitadelEvent struct {
	// UserID and OrgID are the event's aggregate id and resource owner.
	UserID, OrgID string
	// EditorID and EditorName are who deactivated the user.
	EditorID, EditorName string
	// At is the event's creation date; zero means the fake's clock.
	At time.Time
}

// zEventsRead is the permission the events API needs (only IAM_OWNER has it).
const zEventsRead = "events.read"

// AddDeactivatedEvent records a user.deactivated event, as if EditorID had deactivated the user
// at At; the user's state is not changed (add the user inactive for a consistent world).
func (z *Zitadel) AddDeactivatedEvent(e ZitadelEvent) {
	if e.At.IsZero() {
		e.At = z.now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if e.EditorName == "" {
		e.EditorName = e.EditorID
	}
	z.state.Lock()
	defer z.state.Unlock()
	z.events = append(z.events, e)
}

// recordDeactivated records the event of a deactivate p just made of u. z.state must be held.
func (z *Zitadel) recordDeactivated(p principal, u *zitadelUser) {
	z.events = append(z.events, ZitadelEvent{UserID: u.ID, OrgID: u.OrgID, EditorID: p.userID, EditorName: "reactivator", At: u.Changed})
}

// Events returns a copy of the recorded user.deactivated events, oldest first.
func (z *Zitadel) Events() []ZitadelEvent {
	z.state.RLock()
	defer z.state.RUnlock()
	return slices.Clone(z.events)
}

// serveFind answers the listing and events routes; it reports false for any other path.
func (z *Zitadel) serveFind(w http.ResponseWriter, r *http.Request, p string) bool {
	switch {
	case p == "/v2/users" && r.Method == http.MethodPost:
		z.listUsers(w, r)
	case p == "/admin/v1/events/_search" && r.Method == http.MethodPost:
		z.searchEvents(w, r)
	default:
		return false
	}
	return true
}

// zGatewayEOF is the gateway's answer to a malformed JSON body (no details).
const zGatewayEOF = `{"code":3, "message":"unexpected EOF"}`

// listUsers serves ListUsers: the users the caller may read that match every query, sorted by
// creation date, query.offset and query.limit at a time (no limit: all). Unknown fields are
// ignored as the real server ignores them; details.totalResult is a string, left out when no
// user is on the page. The caller always sees itself, and a caller without any role sees only
// itself, with 200 and no error as the real server answers (docs/providers.md, "Listing
// users"); a service user of AddServiceUser is no user of the fake, so such a caller sees nothing.
func (z *Zitadel) listUsers(w http.ResponseWriter, r *http.Request) {
	p, _, ok := z.authorize(w, r, apiV2)
	if !ok {
		return
	}
	var req struct {
		Query struct {
			Offset json.Number `json:"offset"`
			Limit  json.Number `json:"limit"`
		} `json:"query"`
		Queries []map[string]json.RawMessage `json:"queries"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
	if err := json.Unmarshal(b, &req); err != nil {
		z.reply(w, &zHeaders[apiV2][0], http.StatusBadRequest, zGatewayEOF)
		return
	}
	offset, _ := strconv.Atoi(strings.Trim(string(req.Query.Offset), `"`))
	limit, _ := strconv.Atoi(strings.Trim(string(req.Query.Limit), `"`))
	z.state.RLock()
	queries := parseQueries(req.Queries)
	readable := map[string]bool{} // the caller's read right, by organization
	var match []ZitadelUser
	for _, u := range z.candidates(queries) {
		if u.State == ZitadelDeleted || !matchAll(queries, u.ZitadelUser) {
			continue
		}
		may, known := readable[u.OrgID]
		if !known {
			may = z.may(p, permRead, u.OrgID)
			readable[u.OrgID] = may
		}
		if !may && u.ID != p.userID {
			continue
		}
		match = append(match, u.ZitadelUser)
	}
	z.state.RUnlock()
	slices.SortFunc(match, func(a, b ZitadelUser) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	total := len(match)
	page := match[min(max(offset, 0), total):]
	if limit > 0 && len(page) > limit {
		page = page[:limit]
	}
	var sb strings.Builder
	sb.WriteString(`{"details":{`)
	if len(page) > 0 {
		fmt.Fprintf(&sb, `"totalResult":"%d", `, total)
	}
	fmt.Fprintf(&sb, `"timestamp":%q}`, protoTime(z.now().Truncate(time.Microsecond)))
	if len(page) > 0 {
		sb.WriteString(`, "result":[`)
		for i, u := range page {
			if i > 0 {
				sb.WriteString(", ")
			}
			var one struct {
				User json.RawMessage `json:"user"`
			}
			_ = json.Unmarshal([]byte(v2UserBody(u)), &one)
			sb.Write(one.User)
		}
		sb.WriteString("]")
	}
	sb.WriteString("}")
	z.reply(w, &zHeaders[apiV2][1], http.StatusOK, sb.String())
}

// userQuery is one query object of ListUsers, parsed once per request.
type userQuery struct {
	name                                                      string
	state, email, userName, loginName, organizationID, method string
	userIDs                                                   map[string]bool
	sub                                                       []userQuery
}

// parseQueries parses a list of query objects; an object may hold several names (all must match).
func parseQueries(qs []map[string]json.RawMessage) [][]userQuery {
	out := make([][]userQuery, 0, len(qs))
	for _, q := range qs {
		out = append(out, parseQuery(q))
	}
	return out
}

func parseQuery(q map[string]json.RawMessage) []userQuery {
	var out []userQuery
	for name, raw := range q {
		var f struct {
			State          string                       `json:"state"`
			EmailAddress   string                       `json:"emailAddress"`
			UserName       string                       `json:"userName"`
			LoginName      string                       `json:"loginName"`
			OrganizationID string                       `json:"organizationId"`
			UserIDs        []string                     `json:"userIds"`
			Method         string                       `json:"method"`
			Queries        []map[string]json.RawMessage `json:"queries"`
		}
		_ = json.Unmarshal(raw, &f)
		uq := userQuery{name: name, state: f.State, email: f.EmailAddress, userName: f.UserName, loginName: f.LoginName,
			organizationID: f.OrganizationID, method: f.Method}
		if name == "inUserIdsQuery" {
			uq.userIDs = make(map[string]bool, len(f.UserIDs))
			for _, id := range f.UserIDs {
				uq.userIDs[id] = true
			}
		}
		for _, sq := range f.Queries {
			// andQuery and orQuery hold objects of one name each.
			uq.sub = append(uq.sub, userQuery{name: "object", sub: parseQuery(sq)})
		}
		out = append(out, uq)
	}
	return out
}

// candidates are the users a list must look at: those of a top-level inUserIdsQuery (ANDed with
// the rest, so no other user can match), else every user. z.state must be held.
func (z *Zitadel) candidates(qs [][]userQuery) map[string]*zitadelUser {
	for _, obj := range qs {
		for _, q := range obj {
			if q.name != "inUserIdsQuery" {
				continue
			}
			out := make(map[string]*zitadelUser, len(q.userIDs))
			for id := range q.userIDs {
				if u := z.users[id]; u != nil {
					out[id] = u
				}
			}
			return out
		}
	}
	return z.users
}

// matchAll reports whether u matches every query object (a list is ANDed, as the real server does).
func matchAll(qs [][]userQuery, u ZitadelUser) bool {
	for _, q := range qs {
		if !matchObject(q, u) {
			return false
		}
	}
	return true
}

// matchObject matches every name of one query object.
func matchObject(q []userQuery, u ZitadelUser) bool {
	for _, one := range q {
		if !matchQuery(one, u) {
			return false
		}
	}
	return true
}

// matchQuery matches one query; an unknown query name matches everything (ignored).
func matchQuery(q userQuery, u ZitadelUser) bool {
	switch q.name {
	case "object":
		return matchObject(q.sub, u)
	case "stateQuery":
		return zitadelStates[u.State] == q.state
	case "emailQuery":
		return !u.Machine && textMatch(q.method, u.Email, q.email)
	case "userNameQuery":
		return textMatch(q.method, u.UserName, q.userName)
	case "loginNameQuery":
		return textMatch(q.method, u.UserName, q.loginName)
	case "organizationIdQuery":
		return u.OrgID == q.organizationID
	case "inUserIdsQuery":
		return q.userIDs[u.ID]
	case "andQuery":
		for _, sub := range q.sub {
			if !matchQuery(sub, u) {
				return false
			}
		}
		return true
	case "orQuery":
		for _, sub := range q.sub {
			if matchQuery(sub, u) {
				return true
			}
		}
		return false
	}
	return true
}

// textMatch applies a TextQueryMethod; an unknown method name matches nothing, as on the real
// server, and so does an empty value (a misspelt inner field).
func textMatch(method, have, want string) bool {
	if want == "" {
		return false
	}
	if strings.HasSuffix(method, "_IGNORE_CASE") {
		have, want = strings.ToLower(have), strings.ToLower(want)
		method = strings.TrimSuffix(method, "_IGNORE_CASE")
	}
	switch method {
	case "", "TEXT_QUERY_METHOD_EQUALS":
		return have == want
	case "TEXT_QUERY_METHOD_STARTS_WITH":
		return strings.HasPrefix(have, want)
	case "TEXT_QUERY_METHOD_CONTAINS":
		return strings.Contains(have, want)
	case "TEXT_QUERY_METHOD_ENDS_WITH":
		return strings.HasSuffix(have, want)
	}
	return false
}

// searchEvents serves ListEvents for user.deactivated events: it needs events.read (403
// AUTH-5mWD2 without it, 404 AUTHZ-cdgFk without any role); filters eventTypes, editorUserId,
// aggregateId, resourceOwner, range{since,until} (since ≤ t < until) or from (with asc: younger
// than from; without: older); newest first unless asc; limit 0 or over 1000 means 1000. An
// empty answer is {}.
func (z *Zitadel) searchEvents(w http.ResponseWriter, r *http.Request) {
	p, _, ok := z.authorize(w, r, apiV1)
	if !ok {
		return
	}
	var req struct {
		EventTypes    []string `json:"eventTypes"`
		EditorUserID  string   `json:"editorUserId"`
		AggregateID   string   `json:"aggregateId"`
		ResourceOwner string   `json:"resourceOwner"`
		Range         *struct {
			Since time.Time `json:"since"`
			Until time.Time `json:"until"`
		} `json:"range"`
		From  time.Time `json:"from"`
		Asc   bool      `json:"asc"`
		Limit int       `json:"limit"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &req); err != nil {
		z.reply(w, &zHeaders[apiV1][0], http.StatusBadRequest, zGatewayEOF)
		return
	}
	z.state.RLock()
	if !p.hasMembership() {
		z.state.RUnlock()
		z.reply(w, &zHeaders[apiV1][0], http.StatusNotFound, zNoMembership)
		return
	}
	if !slices.Contains(p.permissionsIn(p.orgID), zEventsRead) {
		z.state.RUnlock()
		z.reply(w, &zHeaders[apiV1][0], http.StatusForbidden, zPermissionDenied[apiV1])
		return
	}
	var out []ZitadelEvent
	for _, e := range z.events {
		switch {
		case len(req.EventTypes) > 0 && !slices.Contains(req.EventTypes, "user.deactivated"),
			req.EditorUserID != "" && e.EditorID != req.EditorUserID,
			req.AggregateID != "" && e.UserID != req.AggregateID,
			req.ResourceOwner != "" && e.OrgID != req.ResourceOwner,
			req.Range != nil && !req.Range.Since.IsZero() && e.At.Before(req.Range.Since),
			req.Range != nil && !req.Range.Until.IsZero() && !e.At.Before(req.Range.Until),
			req.Range == nil && !req.From.IsZero() && req.Asc && !e.At.After(req.From),
			req.Range == nil && !req.From.IsZero() && !req.Asc && !e.At.Before(req.From):
			continue
		}
		out = append(out, e)
	}
	z.state.RUnlock()
	slices.SortStableFunc(out, func(a, b ZitadelEvent) int {
		if req.Asc {
			return a.At.Compare(b.At)
		}
		return b.At.Compare(a.At)
	})
	if req.Limit <= 0 || req.Limit > 1000 {
		req.Limit = 1000
	}
	out = out[:min(len(out), req.Limit)]
	if len(out) == 0 {
		z.reply(w, &zHeaders[apiV1][1], http.StatusOK, "{}")
		return
	}
	var sb strings.Builder
	sb.WriteString(`{"events":[`)
	for i, e := range out {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, `{"editor":{"userId":%q, "displayName":%q, "service":"zitadel"}, "aggregate":{"id":%q, "type":{"type":"user", "localized":{"key":"AggregateTypes.user", "localizedMessage":"User"}}, "resourceOwner":%q}, "sequence":"3", "creationDate":%q, "type":{"type":"user.deactivated", "localized":{"key":"EventTypes.user.deactivated", "localizedMessage":"User deactivated"}}}`,
			e.EditorID, e.EditorName, e.UserID, e.OrgID, protoTime(e.At))
	}
	sb.WriteString("]}")
	z.reply(w, &zHeaders[apiV1][1], http.StatusOK, sb.String())
}
