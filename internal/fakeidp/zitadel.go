// This file holds the fake ZITADEL instance: organizations, users, bearer tokens, permissions, the
// v1 and v2 reactivate endpoints and GET /auth/v1/users/me.

package fakeidp

import (
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// ZITADEL user states.
const (
	ZitadelActive   = "active"
	ZitadelInactive = "inactive"
	ZitadelLocked   = "locked"
	ZitadelInitial  = "initial"
	// ZitadelDeleted is a removed user: reactivate answers "not found", as for an unknown id.
	ZitadelDeleted = "deleted"
)

// The answers the fake gives from state, built with the table's helpers.
var (
	zNotInactive = [2]string{
		ZitadelError(9, "User is not inactive", "COMMAND-6M0sf"),
		ZitadelError(9, "User is not inactive", "COMMAND-s5qqcz97hf"),
	}
	zNotFound = [2]string{
		ZitadelError(5, "User could not be found", "COMMAND-4M0sd"),
		ZitadelError(5, "User could not be found", "COMMAND-9hy5kzbuk6"),
	}
	// zPermissionDenied is the 403 of a caller without the permission: v1's id, v2's id.
	zPermissionDenied = [2]string{
		ZitadelError(7, "No matching permissions found", "AUTH-5mWD2"),
		ZitadelError(7, "No matching permissions found", "AUTH-AWfge"),
	}
	// zNoMembership is the 404 of a caller without any role (v1 and v2).
	zNoMembership = ZitadelError(5, "membership not found", "AUTHZ-cdgFk")
	zOrgMissing   = ZitadelError(7, "Organisation doesn't exist", "AUTH-Bs7Ds")
	zBadToken     = ZitadelError(16, "Errors.Token.Invalid", "AUTH-7fs1e")
	zQuota        = ZitadelError(8, "Errors.Quota.RequestsExhausted", "QUOTA-vjAy8")
	zUnavailable  = ZitadelError(14, "Errors.Internal", "QUERY-Dh42f")
	zMethod       = `{"code":12,"message":"Method Not Allowed"}`
	zNoRoute      = `{"code":5,"message":"Not Found"}`
)

// zitadelAPI says which gateway answers a route: the management v1 and auth v1 APIs share one
// set of headers, v2 another; the other routes get plain ones.
type zitadelAPI int

const (
	apiV1 zitadelAPI = iota
	apiV2
	apiPlain
)

type headerKV struct {
	k string
	v []string
}

// headerSet is the fixed headers of one kind of answer; date names the header that carries the
// current date ("" for none).
type headerSet struct {
	kv   []headerKV
	date string
}

var (
	hvNoStore      = []string{"no-store"}
	hvNoCache      = []string{"no-cache"}
	hvGRPC         = []string{"application/grpc"}
	hvOrigin       = []string{"Origin"}
	hvOriginCookie = []string{"Origin", "Cookie"}
	hvNone         = []string{"none"}
	hvQuotaClear   = []string{"zitadel.quota.exhausted=; Path=/; Max-Age=0; SameSite=Lax"}
	hvQuotaSet     = []string{"zitadel.quota.exhausted=true; Path=/; SameSite=Lax"}

	// Headers as the real server sent them (docs/providers.md): errors and successes of v1 and v2.
	zHeaders = [3][2]headerSet{
		apiV1: {
			{date: "Expires", kv: []headerKV{{"Cache-Control", hvNoStore}, {"Content-Type", ctJSON},
				{"Grpcgateway-Cache-Control", hvNoStore}, {"Grpcgateway-Content-Type", hvGRPC},
				{"Grpcgateway-Pragma", hvNoCache}, {"Pragma", hvNoCache}, {"Vary", hvOrigin}, {"X-Robots-Tag", hvNone}}},
			{date: "Expires", kv: []headerKV{{"Cache-Control", hvNoStore}, {"Content-Type", ctJSON},
				{"Grpcgateway-Cache-Control", hvNoStore}, {"Grpcgateway-Content-Type", hvGRPC},
				{"Grpcgateway-Pragma", hvNoCache}, {"Pragma", hvNoCache}, {"Set-Cookie", hvQuotaClear},
				{"Vary", hvOriginCookie}, {"X-Robots-Tag", hvNone}}},
		},
		apiV2: {
			{date: "Grpcgateway-Date", kv: []headerKV{{"Content-Type", ctJSON}, {"Grpcgateway-Content-Type", hvGRPC},
				{"Vary", hvOrigin}, {"X-Robots-Tag", hvNone}}},
			{date: "Grpcgateway-Date", kv: []headerKV{{"Content-Type", ctJSON}, {"Grpcgateway-Cache-Control", hvNoStore},
				{"Grpcgateway-Content-Type", hvGRPC}, {"Grpcgateway-Pragma", hvNoCache}, {"Set-Cookie", hvQuotaClear},
				{"Vary", hvOriginCookie}, {"X-Robots-Tag", hvNone}}},
		},
		apiPlain: {
			{kv: []headerKV{{"Content-Type", ctJSON}, {"Vary", hvOrigin}, {"X-Robots-Tag", hvNone}}},
			{kv: []headerKV{{"Content-Type", ctJSON}, {"Cache-Control", hvNoStore}, {"Pragma", hvNoCache},
				{"Vary", hvOrigin}, {"X-Robots-Tag", hvNone}}},
		},
	}
)

// zitadelIDs encodes request ids like ZITADEL's (20 lowercase base32hex characters).
var zitadelIDs = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// principal is who a bearer token acts as.
type principal struct {
	userID, orgID string
	// iamRoles are the service user's instance-wide roles; orgRoles its roles per organization.
	// A principal with neither has no membership at all (AUTHZ-cdgFk).
	iamRoles []string
	orgRoles map[string][]string
	// expires is zero for a token that does not expire (a PAT).
	expires time.Time
	// noAPI marks a token issued without the ZITADEL API audience scope.
	noAPI bool
}

// Zitadel is a fake ZITADEL instance. It serves POST /v2/users/{id}/reactivate,
// POST /management/v1/users/{id}/_reactivate, GET /auth/v1/users/me and POST /oauth/v2/token,
// with bearer tokens (AddToken, AddClient, AddKey) and the real answers, headers included.
// Create it with NewZitadel; it is safe for concurrent use.
type Zitadel struct {
	fake
	host        string
	hostHasPort bool
	dates       dateCache

	state   sync.RWMutex
	orgs    map[string]bool
	users   map[string]*zitadelUser
	deny    map[string]bool
	tokens  map[string]principal
	clients map[string]zitadelClient
	keys    map[string]zitadelKey
	ttl     time.Duration
	ids     uint64
	// events are the user.deactivated events (zitadel_find.go), oldest first.
	events []ZitadelEvent
}

// NewZitadel returns a fake instance whose external domain is host: requests with another Host
// header get ZITADEL's wrong-host 404 (QUERY-1kIjX). A host without a port accepts any port;
// "" accepts any Host.
func NewZitadel(host string) *Zitadel {
	_, _, err := net.SplitHostPort(host)
	z := &Zitadel{
		host:        host,
		hostHasPort: err == nil,
		orgs:        make(map[string]bool),
		users:       make(map[string]*zitadelUser),
		deny:        make(map[string]bool),
		tokens:      make(map[string]principal),
		clients:     make(map[string]zitadelClient),
		keys:        make(map[string]zitadelKey),
		ttl:         12 * time.Hour,
		ids:         400907376431008806,
	}
	z.fake = newFake(func(key string) callKey { return callKey{b: key} })
	return z
}

// AddOrg adds an organization.
func (z *Zitadel) AddOrg(orgID string) {
	z.state.Lock()
	defer z.state.Unlock()
	z.orgs[orgID] = true
}

// AddUser adds (or replaces) a user of an organization, adding the organization when it is
// missing. state is one of "active", "inactive", "locked", "initial" or "deleted"; it panics on
// another.
func (z *Zitadel) AddUser(userID, orgID string, state string) {
	z.AddZitadelUser(ZitadelUser{ID: userID, OrgID: orgID, State: state})
}

// State returns a user's state, "" for an unknown user.
func (z *Zitadel) State(userID string) string {
	z.state.RLock()
	defer z.state.RUnlock()
	if u := z.users[userID]; u != nil {
		return u.State
	}
	return ""
}

// AddToken adds a personal access token of a service user of organization orgID (the org v1
// acts in when no x-zitadel-orgid header is sent) with the role IAM_OWNER, adding the
// organization when it is missing.
func (z *Zitadel) AddToken(token string, orgID string) {
	z.AddServiceUser(token, orgID, Membership{IAM: true, Roles: []string{RoleIAMOwner}})
}

// RevokeTokens invalidates every token: personal access tokens and those issued at
// /oauth/v2/token. Clients and keys stay valid and can get new tokens.
func (z *Zitadel) RevokeTokens() {
	z.state.Lock()
	defer z.state.Unlock()
	clear(z.tokens)
}

// DenyWrite takes user.write in organization orgID away from every service user: v1 then answers
// 403 code 7 AUTH-5mWD2 before looking the user up; v2 looks the user up first and answers 7 only
// for a user that is inactive (docs/providers.md, permission order).
func (z *Zitadel) DenyWrite(orgID string) {
	z.state.Lock()
	defer z.state.Unlock()
	z.deny[orgID] = true
}

// Script makes the next reactivate calls for the user answer the given cases verbatim, one per
// call, after the rate limit and token checks; then the fake answers from state again.
func (z *Zitadel) Script(userID string, answers ...Case) {
	z.script(callKey{b: userID}, answers)
}

// newID returns a fresh ZITADEL-like numeric id; z.state must be held.
func (z *Zitadel) newID() string {
	z.ids++
	return fmt.Sprint(z.ids)
}

type zitadelRoute int

const (
	routeNone zitadelRoute = iota
	routeV1
	routeV2
	routeMe
	routeToken
	routeV1Read
	routeV2Read
	routePerms
	routeMemberships
	routeV1Deactivate
	routeV2Deactivate
)

// route finds the route of an escaped path and, for reactivate, the escaped user id.
func route(p string) (zitadelRoute, string) {
	if rest, ok := strings.CutPrefix(p, "/v2/users/"); ok {
		if id, ok := strings.CutSuffix(rest, "/reactivate"); ok && id != "" && !strings.Contains(id, "/") {
			return routeV2, id
		}
		if id, ok := strings.CutSuffix(rest, "/deactivate"); ok && id != "" && !strings.Contains(id, "/") {
			return routeV2Deactivate, id
		}
		if rest != "" && !strings.Contains(rest, "/") {
			return routeV2Read, rest
		}
		return routeNone, ""
	}
	if rest, ok := strings.CutPrefix(p, "/management/v1/users/"); ok {
		if id, ok := strings.CutSuffix(rest, "/_reactivate"); ok && id != "" && !strings.Contains(id, "/") {
			return routeV1, id
		}
		if id, ok := strings.CutSuffix(rest, "/_deactivate"); ok && id != "" && !strings.Contains(id, "/") {
			return routeV1Deactivate, id
		}
		if rest != "" && !strings.Contains(rest, "/") && !strings.HasPrefix(rest, "_") {
			return routeV1Read, rest
		}
		return routeNone, ""
	}
	switch p {
	case "/auth/v1/users/me":
		return routeMe, ""
	case "/oauth/v2/token":
		return routeToken, ""
	case "/auth/v1/permissions/zitadel/me/_search":
		return routePerms, ""
	case "/auth/v1/memberships/me/_search":
		return routeMemberships, ""
	}
	return routeNone, ""
}

// ServeHTTP serves the fake ZITADEL API.
func (z *Zitadel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	rt, rawID := route(p)
	deactivate := (rt == routeV1Deactivate || rt == routeV2Deactivate) && r.Method == http.MethodPost
	reactivate := (rt == routeV1 || rt == routeV2) && r.Method == http.MethodPost || deactivate
	flt := z.seen(p, reactivate)
	if clean := cleanPath(p); clean != p {
		// As Go's ServeMux in front of ZITADEL's gateway: /v2/users//reactivate → 301.
		w.Header()["Location"] = []string{clean}
		writeBody(w, http.StatusMovedPermanently)
		return
	}
	api := apiPlain
	switch rt {
	case routeV1, routeMe, routeV1Read, routePerms, routeMemberships, routeV1Deactivate:
		api = apiV1
	case routeV2, routeV2Read, routeV2Deactivate:
		api = apiV2
	}
	if !z.hostOK(r.Host) {
		z.reply(w, &zHeaders[api][0], http.StatusNotFound, wrongHostBody(r, z.host))
		return
	}
	switch {
	case rt == routeNone:
		if !z.serveFind(w, r, p) {
			z.reply(w, &zHeaders[apiPlain][0], http.StatusNotFound, zNoRoute)
		}
	case reactivate:
		z.reactivate(w, r, flt, api, rawID, deactivate)
	case rt == routeMe && r.Method == http.MethodGet:
		z.me(w, r)
	case (rt == routeV1Read || rt == routeV2Read) && r.Method == http.MethodGet:
		z.read(w, r, api, rawID)
	case rt == routePerms && r.Method == http.MethodPost:
		z.permissions(w, r)
	case rt == routeMemberships && r.Method == http.MethodPost:
		z.memberships(w, r)
	case rt == routeToken && r.Method == http.MethodPost:
		z.token(w, r)
	default:
		z.reply(w, &zHeaders[apiPlain][0], http.StatusMethodNotAllowed, zMethod)
	}
}

// cleanPath is path.Clean keeping a trailing slash, as Go's ServeMux cleans paths.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// hostOK reports whether the Host header names this instance.
func (z *Zitadel) hostOK(h string) bool {
	if z.host == "" {
		return true
	}
	if z.hostHasPort {
		return strings.EqualFold(h, z.host)
	}
	if hn, _, err := net.SplitHostPort(h); err == nil {
		h = hn
	}
	return strings.EqualFold(strings.Trim(h, "[]"), strings.Trim(z.host, "[]"))
}

// wrongHostBody is ZITADEL's answer to a Host that names no instance, as ZitadelWrongHost.
func wrongHostBody(r *http.Request, external string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if hn, _, err := net.SplitHostPort(external); err == nil {
		external = hn
	}
	msg, _ := json.Marshal(fmt.Sprintf("unable to set instance using origin &{%s  %s} (ExternalDomain is %s): ID=QUERY-1kIjX Message=Instance not found. Make sure you got the domain right. Check out https://zitadel.com/docs/apis/introduction#domains",
		r.Host, scheme, external))
	return `{"code":5,"message":` + string(msg) + `}`
}

// reply writes an answer with the headers of hs, a fresh X-Request-Id and extra header pairs.
func (z *Zitadel) reply(w http.ResponseWriter, hs *headerSet, status int, body string, extra ...string) {
	h := w.Header()
	for _, kv := range hs.kv {
		h[kv.k] = kv.v
	}
	if hs.date != "" {
		h[hs.date] = z.dates.get(z.now())
	}
	h["X-Request-Id"] = []string{z.requestID()}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = []string{extra[i+1]}
	}
	writeBody(w, status, body)
}

// requestID returns a fresh id in the form of ZITADEL's X-Request-Id.
func (z *Zitadel) requestID() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(z.now().Unix()))
	binary.BigEndian.PutUint32(b[4:8], z.salt)
	binary.BigEndian.PutUint32(b[8:12], uint32(z.nextSeq()))
	var out [20]byte
	zitadelIDs.Encode(out[:], b[:])
	return string(out[:])
}

type authResult int

const (
	authOK authResult = iota
	authMissing
	authInvalid
)

// authenticate finds the principal of the request's bearer token.
func (z *Zitadel) authenticate(r *http.Request) (principal, authResult) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{}, authMissing
	}
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return principal{}, authInvalid
	}
	z.state.RLock()
	p, ok := z.tokens[h[7:]]
	z.state.RUnlock()
	if !ok || p.noAPI || !p.expires.IsZero() && !z.now().Before(p.expires) {
		return principal{}, authInvalid
	}
	return p, authOK
}

// authorize authenticates the request and checks its x-zitadel-orgid header; it answers and
// returns false when the call must stop. org is the organization the call acts in.
func (z *Zitadel) authorize(w http.ResponseWriter, r *http.Request, api zitadelAPI) (p principal, org string, ok bool) {
	p, res := z.authenticate(r)
	switch res {
	case authMissing:
		z.reply(w, &zHeaders[api][0], http.StatusUnauthorized, ZitadelNoAuth, "Www-Authenticate", "auth header missing")
		return p, "", false
	case authInvalid:
		z.reply(w, &zHeaders[api][0], http.StatusUnauthorized, zBadToken, "Www-Authenticate", "Errors.Token.Invalid (AUTH-7fs1e)")
		return p, "", false
	}
	org = p.orgID
	if h := r.Header.Get("X-Zitadel-Orgid"); h != "" {
		z.state.RLock()
		known := z.orgs[h]
		z.state.RUnlock()
		if !known {
			z.reply(w, &zHeaders[api][0], http.StatusForbidden, zOrgMissing)
			return p, "", false
		}
		org = h
	}
	return p, org, true
}

// reactivate serves a reactivate call, or with deactivate true a deactivate call: both meet the
// latency, the rate limit, scripted answers and faults, and count as calls to the user.
func (z *Zitadel) reactivate(w http.ResponseWriter, r *http.Request, flt Faults, api zitadelAPI, rawID string, deactivate bool) {
	ok, limited, retryAfter := z.admit(r, flt)
	if !ok {
		if limited {
			if retryAfter != "" {
				z.reply(w, &zHeaders[api][0], http.StatusTooManyRequests, zQuota, "Set-Cookie", hvQuotaSet[0], "Retry-After", retryAfter)
			} else {
				z.reply(w, &zHeaders[api][0], http.StatusTooManyRequests, zQuota, "Set-Cookie", hvQuotaSet[0])
			}
		}
		return
	}
	p, org, ok := z.authorize(w, r, api)
	if !ok {
		return
	}
	id, err := url.PathUnescape(rawID)
	if err != nil {
		id = rawID
	}
	scripted, fl := z.begin(callKey{b: id})
	if scripted != nil {
		writeCase(w, scripted)
		return
	}
	if fl == fault5xx {
		z.reply(w, &zHeaders[api][0], http.StatusServiceUnavailable, zUnavailable)
		return
	}
	apply := z.apply
	if deactivate {
		apply = z.applyDeactivate
	}
	status, body := apply(p, api, org, id)
	if !z.deliver(w, r, fl) {
		return
	}
	z.reply(w, &zHeaders[api][b2i(status == http.StatusOK)], status, body)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// target is the user a change of p's names, as each API finds it: v1 checks the permission in
// the acting org first and finds users only in that org; v2 finds any user (it checks the
// permission last, in the user's org). denied is true, with the answer, when v1's permission
// check refuses. z.state must be held.
func (z *Zitadel) target(p principal, api zitadelAPI, org, id string) (u *zitadelUser, st int, body string, denied bool) {
	if st, body, denied := z.denied(p, api, permWrite, org, true); denied {
		return nil, st, body, true
	}
	u = z.users[id]
	if api == apiV1 && u != nil && u.OrgID != org {
		u = nil
	}
	return u, 0, "", false
}

// apply reactivates the user when it can, checking in each API's order, and returns the answer:
// v2 checks existence, then state, then permission; v1 permission in the acting org first, then
// finds the user only in that org, then checks its state (docs/providers.md).
func (z *Zitadel) apply(p principal, api zitadelAPI, org, id string) (int, string) {
	z.state.Lock()
	defer z.state.Unlock()
	u, st, body, denied := z.target(p, api, org, id)
	if denied {
		return st, body
	}
	switch {
	case u == nil || u.State == ZitadelDeleted:
		return http.StatusNotFound, zNotFound[api]
	case u.State != ZitadelInactive:
		return http.StatusBadRequest, zNotInactive[api]
	}
	if st, body, denied := z.denied(p, api, permWrite, u.OrgID, false); denied {
		return st, body
	}
	z.change(u, ZitadelActive)
	return http.StatusOK, changeBody(u)
}

// Deactivate answers, v1 and v2 (docs/providers.md, "Deactivate").
var (
	zAlreadyInactive = [2]string{
		ZitadelError(9, "User already inactive", "COMMAND-5M0sf"),
		ZitadelError(9, "User already inactive", "COMMAND-5gunjw0cd7"),
	}
	zDeactivateNotFound = [2]string{
		ZitadelError(5, "User could not be found", "COMMAND-3M9ds"),
		ZitadelError(5, "User could not be found", "COMMAND-5gp2p62iin"),
	}
	zInitialStatus     = [2]int{http.StatusNotFound, http.StatusBadRequest}
	zDeactivateInitial = [2]string{
		ZitadelError(5, "User with state initial can only be deleted not deactivated", "COMMAND-ke0fw"),
		ZitadelError(9, "User with state initial can only be deleted not deactivated", "COMMAND-gvx4kct9r2"),
	}
)

// applyDeactivate deactivates the user when it can, in each API's order of checks as apply: an
// active or locked user becomes inactive (the lock is lost), an inactive one answers "already
// inactive", an initial one "can only be deleted".
func (z *Zitadel) applyDeactivate(p principal, api zitadelAPI, org, id string) (int, string) {
	z.state.Lock()
	defer z.state.Unlock()
	u, st, body, denied := z.target(p, api, org, id)
	if denied {
		return st, body
	}
	switch {
	case u == nil || u.State == ZitadelDeleted:
		return http.StatusNotFound, zDeactivateNotFound[api]
	case u.State == ZitadelInactive:
		return http.StatusBadRequest, zAlreadyInactive[api]
	case u.State == ZitadelInitial:
		return zInitialStatus[api], zDeactivateInitial[api]
	}
	if st, body, denied := z.denied(p, api, permWrite, u.OrgID, false); denied {
		return st, body
	}
	z.change(u, ZitadelInactive)
	z.recordDeactivated(p, u)
	return http.StatusOK, changeBody(u)
}

type meUser struct {
	User struct {
		ID      string `json:"id"`
		Details struct {
			Sequence      string `json:"sequence"`
			CreationDate  string `json:"creationDate"`
			ChangeDate    string `json:"changeDate"`
			ResourceOwner string `json:"resourceOwner"`
		} `json:"details"`
		State              string   `json:"state"`
		UserName           string   `json:"userName"`
		LoginNames         []string `json:"loginNames"`
		PreferredLoginName string   `json:"preferredLoginName"`
		Machine            struct {
			Name            string `json:"name"`
			Description     string `json:"description"`
			AccessTokenType string `json:"accessTokenType"`
		} `json:"machine"`
	} `json:"user"`
}

// me serves GET /auth/v1/users/me: the token's service user.
func (z *Zitadel) me(w http.ResponseWriter, r *http.Request) {
	p, _, ok := z.authorize(w, r, apiV1)
	if !ok {
		return
	}
	var u meUser
	u.User.ID = p.userID
	u.User.Details.Sequence = "2"
	u.User.Details.CreationDate = "2026-11-23T17:37:40.512312Z"
	u.User.Details.ChangeDate = u.User.Details.CreationDate
	u.User.Details.ResourceOwner = p.orgID
	u.User.State = "USER_STATE_ACTIVE"
	u.User.UserName = "reactivator"
	u.User.LoginNames = []string{"reactivator"}
	u.User.PreferredLoginName = "reactivator"
	u.User.Machine.Name = "reactivator"
	u.User.Machine.Description = "reactivator service user"
	u.User.Machine.AccessTokenType = "ACCESS_TOKEN_TYPE_BEARER"
	body, _ := json.Marshal(u)
	z.reply(w, &zHeaders[apiV1][1], http.StatusOK, string(body))
}
