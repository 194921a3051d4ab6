// This file holds the fake Stytch's look-ups for find: Get Organization by id or slug
// (GET /v1/b2b/organizations/{id|slug}) and Search Members (POST /v1/b2b/organizations/members/search),
// with members' email addresses (docs/providers.md, "Stytch endpoints beside reactivate").

package fakeidp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SetMemberEmail sets a member's email_address (default <member id>@example.com); it panics on an
// unknown member.
func (s *Stytch) SetMemberEmail(memberID, email string) {
	s.state.Lock()
	defer s.state.Unlock()
	m := s.members[memberID]
	if m == nil {
		panic("fakeidp: SetMemberEmail of an unknown member " + memberID)
	}
	m.email = email
}

// serveFind answers Get Organization and Search Members; it reports false for any other path.
// The caller has recorded the request's path.
func (s *Stytch) serveFind(w http.ResponseWriter, r *http.Request, p string) bool {
	if r.Method == http.MethodPost && p == stytchAPI+"members/search" {
		s.searchMembers(w, r)
		return true
	}
	ref, ok := strings.CutPrefix(p, stytchAPI)
	// "search" is Search Organizations' path, which only POST serves.
	if r.Method != http.MethodGet || !ok || ref == "" || ref == "search" || strings.Contains(ref, "/") {
		return false
	}
	s.getOrg(w, r, ref)
	return true
}

type stytchOrgBody struct {
	OrganizationID   string `json:"organization_id"`
	OrganizationName string `json:"organization_name"`
	OrganizationSlug string `json:"organization_slug"`
}

// getOrg serves Get Organization: the organization its id or slug names.
func (s *Stytch) getOrg(w http.ResponseWriter, r *http.Request, rawRef string) {
	if !s.authorized(r) {
		s.writeError(w, "unauthorized_credentials")
		return
	}
	ref, err := url.PathUnescape(rawRef)
	s.state.RLock()
	o := s.orgs[ref]
	s.state.RUnlock()
	if err != nil || o == nil {
		s.writeError(w, "organization_not_found")
		return
	}
	body, _ := json.Marshal(struct {
		RequestID    string        `json:"request_id"`
		Organization stytchOrgBody `json:"organization"`
		StatusCode   int           `json:"status_code"`
	}{StytchRequestID, stytchOrgBody{o.id, o.slug, o.slug}, http.StatusOK})
	s.write(w, http.StatusOK, split(string(body), StytchRequestID))
}

type stytchMemberBody struct {
	OrganizationID       string   `json:"organization_id"`
	MemberID             string   `json:"member_id"`
	EmailAddress         string   `json:"email_address"`
	Status               string   `json:"status"`
	Name                 string   `json:"name"`
	EmailAddressVerified bool     `json:"email_address_verified"`
	IsLocked             bool     `json:"is_locked"`
	Roles                []string `json:"roles"`
	CreatedAt            string   `json:"created_at"`
	UpdatedAt            string   `json:"updated_at"`
}

// searchMembers serves Search Members: the members of organization_ids (canonical ids; anything
// else is organization_not_found) matching every operand of the query (statuses, member_ids,
// member_emails, member_email_fuzzy; AND only), sorted by member id, limit (default 100, at
// most 1000) at a time from cursor; next_cursor is null on the last page. A member deleted shows
// only when statuses names "deleted". An unknown filter name is member_search_invalid_filter.
func (s *Stytch) searchMembers(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.writeError(w, "unauthorized_credentials")
		return
	}
	var req struct {
		OrganizationIDs []string `json:"organization_ids"`
		Limit           int      `json:"limit"`
		Cursor          string   `json:"cursor"`
		Query           *struct {
			Operator string `json:"operator"`
			Operands []struct {
				FilterName  string          `json:"filter_name"`
				FilterValue json.RawMessage `json:"filter_value"`
			} `json:"operands"`
		} `json:"query"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &req); err != nil || len(req.OrganizationIDs) == 0 {
		s.writeSearchError(w, "member_search_invalid_request", "The request body is not a valid member search.")
		return
	}
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	if req.Query != nil {
		for _, op := range req.Query.Operands {
			f := filter{name: op.FilterName}
			if err := json.Unmarshal(op.FilterValue, &f.values); err != nil {
				var one string
				_ = json.Unmarshal(op.FilterValue, &one)
				f.values = []string{one}
			}
			switch f.name {
			case "statuses", "member_ids", "member_emails", "member_email_fuzzy":
			default:
				s.writeSearchError(w, "member_search_invalid_filter", "Unknown filter_name "+strconv.Quote(f.name)+".")
				return
			}
			filters = append(filters, f)
		}
	}
	if req.Limit <= 0 {
		req.Limit = 100
	}
	req.Limit = min(req.Limit, 1000)
	type found struct {
		id string
		m  *stytchMember
	}
	var all []found
	orgs := map[string]stytchOrgBody{}
	s.state.RLock()
	for _, id := range req.OrganizationIDs {
		if o := s.orgs[id]; o == nil || o.id != id {
			s.state.RUnlock()
			s.writeError(w, "organization_not_found")
			return
		}
	}
	for id, m := range s.members {
		if !slices.Contains(req.OrganizationIDs, m.orgID) {
			continue
		}
		email := m.email
		if email == "" {
			email = id + "@example.com"
		}
		ok, deletedAsked := true, false
		for _, f := range filters {
			switch f.name {
			case "statuses":
				deletedAsked = slices.Contains(f.values, StytchDeleted)
				ok = ok && slices.Contains(f.values, m.status)
			case "member_ids":
				ok = ok && slices.Contains(f.values, id)
			case "member_emails":
				ok = ok && slices.ContainsFunc(f.values, func(v string) bool { return strings.EqualFold(v, email) })
			case "member_email_fuzzy":
				ok = ok && len(f.values[0]) >= 3 && strings.Contains(strings.ToLower(email), strings.ToLower(f.values[0]))
			}
		}
		if ok && (m.status != StytchDeleted || deletedAsked) {
			all = append(all, found{id, m})
			o := s.orgs[m.orgID]
			orgs[o.id] = stytchOrgBody{o.id, o.slug, o.slug}
		}
	}
	s.state.RUnlock()
	slices.SortFunc(all, func(a, b found) int { return strings.Compare(a.id, b.id) })
	from, _ := strconv.Atoi(req.Cursor)
	from = min(max(from, 0), len(all))
	to := min(from+req.Limit, len(all))
	members := make([]stytchMemberBody, 0, to-from)
	for _, f := range all[from:to] {
		email := f.m.email
		if email == "" {
			email = f.id + "@example.com"
		}
		members = append(members, stytchMemberBody{OrganizationID: f.m.orgID, MemberID: f.id, EmailAddress: email,
			Status: f.m.status, Name: "Ada", EmailAddressVerified: f.m.verified, Roles: []string{},
			CreatedAt: f.m.created.UTC().Format(time.RFC3339), UpdatedAt: f.m.updated.UTC().Format(time.RFC3339)})
	}
	var next *string
	if to < len(all) {
		c := strconv.Itoa(to)
		next = &c
	}
	body, _ := json.Marshal(struct {
		RequestID       string                   `json:"request_id"`
		Members         []stytchMemberBody       `json:"members"`
		Organizations   map[string]stytchOrgBody `json:"organizations"`
		ResultsMetadata stytchResultsMetadata    `json:"results_metadata"`
		StatusCode      int                      `json:"status_code"`
	}{StytchRequestID, members, orgs, stytchResultsMetadata{Total: len(all), NextCursor: next}, http.StatusOK})
	s.write(w, http.StatusOK, split(string(body), StytchRequestID))
}

// writeSearchError answers a malformed search with a 400 of the given error type.
func (s *Stytch) writeSearchError(w http.ResponseWriter, errType, msg string) {
	s.write(w, http.StatusBadRequest, split(StytchError(http.StatusBadRequest, errType, msg), StytchRequestID))
}
