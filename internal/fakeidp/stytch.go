// This file holds the fake Stytch B2B server: organizations, members, Basic auth, Reactivate Member
// and Search Organizations.

package fakeidp

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stytch member statuses.
const (
	StytchDeleted = "deleted"
	StytchActive  = "active"
	StytchInvited = "invited"
	StytchPending = "pending"
)

// stytchMessages are the error_message texts of the answers the fake gives from state. Stytch's
// exact texts are not published; clients classify by error_type only.
var stytchMessages = map[string]struct {
	status  int
	message string
}{
	"unauthorized_credentials":                 {401, "Unauthorized credentials."},
	"organization_not_found":                   {404, "Organization could not be found."},
	"member_not_found":                         {404, "Member could not be found."},
	"member_does_not_exist_in_organization":    {404, "The member does not exist in this organization."},
	"no_deleted_member_found_for_reactivation": {400, "No deleted member was found to reactivate."},
	"email_unverified_for_reactivation":        {400, "The member needs a verified email address to be reactivated."},
	"too_many_requests":                        {429, "Too many requests"},
	"internal_server_error":                    {500, "Oops, something seems to have gone wrong, please reach out to support@stytch.com to let us know what went wrong."},
}

type stytchError struct {
	status int
	body   template
}

// stytchErrors are the error bodies of stytchMessages, cut around the request id.
var stytchErrors = func() map[string]stytchError {
	m := make(map[string]stytchError, len(stytchMessages))
	for typ, e := range stytchMessages {
		m[typ] = stytchError{status: e.status, body: split(StytchError(e.status, typ, e.message), StytchRequestID)}
	}
	return m
}()

var (
	ctJSON    = []string{"application/json"}
	stytchAPI = "/v1/b2b/organizations/"
)

type stytchOrg struct{ id, slug string }

type stytchMember struct {
	orgID    string
	status   string
	verified bool
	success  template
	// email is the member's email_address (stytch_find.go); "" means <member id>@example.com.
	email string
	// created and updated are the member's created_at and updated_at; every change moves updated.
	created, updated time.Time
}

// Stytch is a fake Stytch B2B API. It serves PUT /v1/b2b/organizations/{org}/members/{member}/reactivate,
// GET /v1/b2b/organizations/members/dangerously_get/{member} and POST /v1/b2b/organizations/search behind HTTP Basic auth (project id and secret); any other
// path gets a plain-text 404, not Stytch's JSON error form, as a wrong base URL would.
// Create it with NewStytch; it is safe for concurrent use.
type Stytch struct {
	fake
	reqPrefix string
	auth      atomic.Pointer[stytchAuth]

	state   sync.RWMutex
	orgs    map[string]*stytchOrg // by id and by slug
	orgList []*stytchOrg
	members map[string]*stytchMember
}

type stytchAuth struct{ projectID, secret, header string }

// NewStytch returns a fake Stytch project that accepts projectID and secret. Request ids carry the
// project's environment (request-id-live-… for project-live-…, else request-id-test-…).
func NewStytch(projectID, secret string) *Stytch {
	env := "test"
	if strings.HasPrefix(projectID, "project-live-") {
		env = "live"
	}
	s := &Stytch{
		reqPrefix: "request-id-" + env + "-",
		orgs:      make(map[string]*stytchOrg),
		members:   make(map[string]*stytchMember),
	}
	s.fake = newFake(s.callKeyOf)
	s.setAuth(projectID, secret)
	return s
}

func (s *Stytch) setAuth(projectID, secret string) {
	s.auth.Store(&stytchAuth{projectID: projectID, secret: secret,
		header: "Basic " + base64.StdEncoding.EncodeToString([]byte(projectID+":"+secret))})
}

// SetSecret replaces the project's secret: calls with the old one get 401 unauthorized_credentials.
func (s *Stytch) SetSecret(secret string) {
	s.setAuth(s.auth.Load().projectID, secret)
}

// AddOrg adds an organization, found by its id or its slug (slug may be empty).
func (s *Stytch) AddOrg(orgID, slug string) {
	s.state.Lock()
	defer s.state.Unlock()
	s.addOrg(orgID, slug)
}

func (s *Stytch) addOrg(orgID, slug string) {
	o := s.orgs[orgID]
	if o == nil || o.id != orgID {
		o = &stytchOrg{id: orgID}
		s.orgList = append(s.orgList, o)
	}
	if o.slug != "" && o.slug != slug {
		delete(s.orgs, o.slug)
	}
	o.slug = slug
	s.orgs[orgID] = o
	if slug != "" {
		s.orgs[slug] = o
	}
}

// AddMember adds (or replaces) a member of an organization, adding the organization when it is
// missing. status is one of "deleted", "active", "invited", "pending"; verifiedEmail says whether
// the member has a verified email, which reactivation needs. It panics on another status.
func (s *Stytch) AddMember(orgID, memberID string, status string, verifiedEmail bool) {
	switch status {
	case StytchDeleted, StytchActive, StytchInvited, StytchPending:
	default:
		panic(fmt.Sprintf("fakeidp: unknown Stytch member status %q", status))
	}
	s.state.Lock()
	defer s.state.Unlock()
	if o := s.orgs[orgID]; o == nil || o.id != orgID {
		s.addOrg(orgID, "")
	}
	now := s.now().UTC().Truncate(time.Second)
	s.members[memberID] = &stytchMember{orgID: orgID, status: status, verified: verifiedEmail,
		success: split(StytchSuccess(orgID, memberID), StytchRequestID), created: now, updated: now}
}

// RemoveMember forgets a member, as if it never existed: a delete, a reactivate and a read
// (deleted members included) of it answer member_not_found.
func (s *Stytch) RemoveMember(memberID string) {
	s.state.Lock()
	defer s.state.Unlock()
	delete(s.members, memberID)
}

// UpdatedAt returns a member's updated_at, zero for an unknown member.
func (s *Stytch) UpdatedAt(memberID string) time.Time {
	s.state.RLock()
	defer s.state.RUnlock()
	if m := s.members[memberID]; m != nil {
		return m.updated
	}
	return time.Time{}
}

// Status returns a member's status, "" when the organization (id or slug) has no such member.
func (s *Stytch) Status(orgID, memberID string) string {
	s.state.RLock()
	defer s.state.RUnlock()
	o, m := s.orgs[orgID], s.members[memberID]
	if o == nil || m == nil || m.orgID != o.id {
		return ""
	}
	return m.status
}

// Script makes the next reactivate calls for the member answer the given cases verbatim, one
// per call, after the rate limit and credentials checks; then the fake answers from state again.
// orgID may be the organization's id or slug, or any value when the organization is not added.
func (s *Stytch) Script(orgID, memberID string, answers ...Case) {
	s.script(callKey{s.canonicalOrg(orgID), memberID}, answers)
}

// callKeyOf parses a Calls key "organization/member".
func (s *Stytch) callKeyOf(key string) callKey {
	org, member, _ := strings.Cut(key, "/")
	return callKey{s.canonicalOrg(org), member}
}

// canonicalOrg returns the id of the organization ref names (by id or slug), else ref.
func (s *Stytch) canonicalOrg(ref string) string {
	s.state.RLock()
	defer s.state.RUnlock()
	if o := s.orgs[ref]; o != nil {
		return o.id
	}
	return ref
}

// ServeHTTP serves the fake Stytch API.
func (s *Stytch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if r.Method == http.MethodPut {
		if org, member, ok := stytchReactivatePath(p); ok {
			s.reactivate(w, r, p, org, member)
			return
		}
	}
	if r.Method == http.MethodDelete {
		if org, member, ok := stytchMemberPath(p); ok {
			s.delete(w, r, p, org, member)
			return
		}
	}
	s.seen(p, false)
	if r.Method == http.MethodPost && p == stytchAPI+"search" {
		s.search(w, r)
		return
	}
	if id, ok := strings.CutPrefix(p, stytchAPI+"members/dangerously_get/"); ok && r.Method == http.MethodGet && id != "" && !strings.Contains(id, "/") {
		s.dangerouslyGet(w, r, id)
		return
	}
	if s.serveFind(w, r, p) {
		return
	}
	http.NotFound(w, r)
}

// stytchReactivatePath returns the unescaped organization and member of a reactivate path.
func stytchReactivatePath(p string) (org, member string, ok bool) {
	rest, ok := strings.CutPrefix(p, stytchAPI)
	if !ok {
		return "", "", false
	}
	org, rest, _ = strings.Cut(rest, "/")
	rest, ok = strings.CutPrefix(rest, "members/")
	if !ok {
		return "", "", false
	}
	member, rest, _ = strings.Cut(rest, "/")
	if rest != "reactivate" || org == "" || member == "" {
		return "", "", false
	}
	org, err1 := url.PathUnescape(org)
	member, err2 := url.PathUnescape(member)
	return org, member, err1 == nil && err2 == nil
}

func (s *Stytch) authorized(r *http.Request) bool {
	a := s.auth.Load()
	if r.Header.Get("Authorization") == a.header {
		return true
	}
	user, pass, ok := r.BasicAuth()
	return ok && user == a.projectID && pass == a.secret
}

func (s *Stytch) reactivate(w http.ResponseWriter, r *http.Request, p, orgRef, memberID string) {
	ok, limited, retryAfter := s.admit(r, s.seen(p, true))
	if !ok {
		if limited {
			if retryAfter != "" {
				w.Header()["Retry-After"] = []string{retryAfter}
			}
			s.writeError(w, "too_many_requests")
		}
		return
	}
	if !s.authorized(r) {
		s.writeError(w, "unauthorized_credentials")
		return
	}
	scripted, flt := s.begin(callKey{s.canonicalOrg(orgRef), memberID})
	if scripted != nil {
		writeCase(w, scripted)
		return
	}
	if flt == fault5xx {
		s.writeError(w, "internal_server_error")
		return
	}
	errType, success := s.apply(orgRef, memberID)
	if !s.deliver(w, r, flt) {
		return
	}
	if errType != "" {
		s.writeError(w, errType)
		return
	}
	s.write(w, http.StatusOK, success)
}

// apply reactivates a member when it can; it returns the error type of the refusal, or the
// success body.
func (s *Stytch) apply(orgRef, memberID string) (string, template) {
	s.state.Lock()
	defer s.state.Unlock()
	o := s.orgs[orgRef]
	if o == nil {
		return "organization_not_found", template{}
	}
	m := s.members[memberID]
	switch {
	case m == nil:
		return "member_not_found", template{}
	case m.orgID != o.id:
		return "member_does_not_exist_in_organization", template{}
	case m.status != StytchDeleted:
		return "no_deleted_member_found_for_reactivation", template{}
	case !m.verified:
		return "email_unverified_for_reactivation", template{}
	}
	m.status = StytchActive
	m.updated = s.now().UTC().Truncate(time.Second)
	return "", m.success
}

func (s *Stytch) writeError(w http.ResponseWriter, errType string) {
	e := stytchErrors[errType]
	s.write(w, e.status, e.body)
}

func (s *Stytch) write(w http.ResponseWriter, status int, t template) {
	w.Header()["Content-Type"] = ctJSON
	writeBody(w, status, t.pre, s.requestID(), t.post)
}

// requestID returns a fresh request-id-{env}-<uuid>.
func (s *Stytch) requestID() string {
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:4], s.salt)
	binary.BigEndian.PutUint64(b[8:16], s.nextSeq())
	b[6] = 0x40
	b[8] = 0x80 | b[8]&0x3f
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return s.reqPrefix + string(out[:])
}

type stytchSearchResult struct {
	RequestID       string                `json:"request_id"`
	Organizations   []stytchSearchOrg     `json:"organizations"`
	ResultsMetadata stytchResultsMetadata `json:"results_metadata"`
	StatusCode      int                   `json:"status_code"`
}

type stytchResultsMetadata struct {
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

type stytchSearchOrg struct {
	OrganizationID   string `json:"organization_id"`
	OrganizationName string `json:"organization_name"`
	OrganizationSlug string `json:"organization_slug"`
}

// search serves Search Organizations: the organizations in the order they were added, limit
// (default 100) at a time, next_cursor naming the next page.
func (s *Stytch) search(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.writeError(w, "unauthorized_credentials")
		return
	}
	var q struct {
		Limit  int    `json:"limit"`
		Cursor string `json:"cursor"`
	}
	_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&q)
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	from, _ := strconv.Atoi(q.Cursor)
	s.state.RLock()
	total := len(s.orgList)
	from = min(max(from, 0), total)
	to := min(from+q.Limit, total)
	orgs := make([]stytchSearchOrg, 0, to-from)
	for _, o := range s.orgList[from:to] {
		orgs = append(orgs, stytchSearchOrg{OrganizationID: o.id, OrganizationName: o.slug, OrganizationSlug: o.slug})
	}
	s.state.RUnlock()
	var next *string
	if to < total {
		c := strconv.Itoa(to)
		next = &c
	}
	body, err := json.Marshal(stytchSearchResult{RequestID: s.requestID(), Organizations: orgs,
		ResultsMetadata: stytchResultsMetadata{Total: total, NextCursor: next}, StatusCode: http.StatusOK})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = ctJSON
	writeBody(w, http.StatusOK, string(body))
}

// dangerouslyGet serves GET /v1/b2b/organizations/members/dangerously_get/{member}: the member
// in any organization; a deleted one only with include_deleted=true (docs/providers.md, "Get
// member"). Reads meet neither faults nor the rate limit.
func (s *Stytch) dangerouslyGet(w http.ResponseWriter, r *http.Request, rawID string) {
	if !s.authorized(r) {
		s.writeError(w, "unauthorized_credentials")
		return
	}
	id, err := url.PathUnescape(rawID)
	if err != nil {
		s.writeError(w, "member_not_found")
		return
	}
	s.state.RLock()
	m := s.members[id]
	var body string
	if m != nil && (m.status != StytchDeleted || r.URL.Query().Get("include_deleted") == "true") {
		body = StytchMember(m.orgID, id, m.status, m.verified, m.created, m.updated)
	}
	s.state.RUnlock()
	if body == "" {
		s.writeError(w, "member_not_found")
		return
	}
	s.write(w, http.StatusOK, split(body, StytchRequestID))
}

// stytchMemberPath returns the unescaped organization and member of a member path
// /v1/b2b/organizations/{org}/members/{member}.
func stytchMemberPath(p string) (org, member string, ok bool) {
	rest, ok := strings.CutPrefix(p, stytchAPI)
	if !ok {
		return "", "", false
	}
	org, rest, _ = strings.Cut(rest, "/")
	member, ok = strings.CutPrefix(rest, "members/")
	if !ok || org == "" || member == "" || strings.Contains(member, "/") {
		return "", "", false
	}
	org, err1 := url.PathUnescape(org)
	member, err2 := url.PathUnescape(member)
	return org, member, err1 == nil && err2 == nil
}

// delete serves Delete Member: an active, invited or pending member becomes deleted (updated_at
// moves); a deleted or unknown one answers member_not_found. It meets the latency, the rate
// limit, scripts and faults as reactivate does, and counts as a call to the member.
func (s *Stytch) delete(w http.ResponseWriter, r *http.Request, p, orgRef, memberID string) {
	ok, limited, retryAfter := s.admit(r, s.seen(p, true))
	if !ok {
		if limited {
			if retryAfter != "" {
				w.Header()["Retry-After"] = []string{retryAfter}
			}
			s.writeError(w, "too_many_requests")
		}
		return
	}
	if !s.authorized(r) {
		s.writeError(w, "unauthorized_credentials")
		return
	}
	scripted, flt := s.begin(callKey{s.canonicalOrg(orgRef), memberID})
	if scripted != nil {
		writeCase(w, scripted)
		return
	}
	if flt == fault5xx {
		s.writeError(w, "internal_server_error")
		return
	}
	errType := s.applyDelete(orgRef, memberID)
	if !s.deliver(w, r, flt) {
		return
	}
	if errType != "" {
		s.writeError(w, errType)
		return
	}
	s.write(w, http.StatusOK, split(StytchDeleteSuccess(memberID), StytchRequestID))
}

func (s *Stytch) applyDelete(orgRef, memberID string) string {
	s.state.Lock()
	defer s.state.Unlock()
	o := s.orgs[orgRef]
	if o == nil {
		return "organization_not_found"
	}
	m := s.members[memberID]
	switch {
	case m == nil || m.status == StytchDeleted:
		return "member_not_found"
	case m.orgID != o.id:
		return "member_does_not_exist_in_organization"
	}
	m.status = StytchDeleted
	m.updated = s.now().UTC().Truncate(time.Second)
	return ""
}
