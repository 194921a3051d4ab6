// This file holds the fake ZITADEL's permission model as the real server shows it: service users
// with roles per organization or instance-wide, the permissions each role carries (the real
// server's lists), the answers of a missing role or permission, and the two read-only look-ups
// POST /auth/v1/permissions/zitadel/me/_search and POST /auth/v1/memberships/me/_search
// (docs/providers.md, "ZITADEL permissions").

package fakeidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// The roles the fake knows, with the permissions the real server lists for each.
const (
	RoleIAMOwner       = "IAM_OWNER"
	RoleIAMUserManager = "IAM_USER_MANAGER"
	RoleOrgUserManager = "ORG_USER_MANAGER"
	RoleOrgOwnerViewer = "ORG_OWNER_VIEWER"
)

// rolePermissions are the permissions of each role, taken from the real server's answers to the
// permission search.
var rolePermissions = func() map[string][]string {
	m := map[string][]string{}
	for role, body := range map[string]string{
		RoleIAMOwner: zPermsIAMOwner, RoleIAMUserManager: zPermsIAMUserManager,
		RoleOrgUserManager: zPermsOrgUserManager, RoleOrgOwnerViewer: zPermsViewer,
	} {
		var r struct {
			Result []string `json:"result"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Result) == 0 {
			panic("fakeidp: permission list of " + role + " does not parse")
		}
		m[role] = r.Result
	}
	return m
}()

// Membership is one membership of a service user: roles in one organization, or instance-wide
// (IAM) roles.
type Membership struct {
	// OrgID is the organization of the roles; ignored when IAM is true.
	OrgID string
	// IAM makes the roles instance-wide (IAM_OWNER, IAM_USER_MANAGER).
	IAM   bool
	Roles []string
}

// AddServiceUser adds a personal access token of a service user of organization orgID with the
// given memberships; none means a service user without any role, which the real server answers
// 404 AUTHZ-cdgFk "membership not found" wherever a permission is checked. It panics on a role
// it does not know.
func (z *Zitadel) AddServiceUser(token, orgID string, ms ...Membership) {
	p := principal{orgID: orgID, orgRoles: map[string][]string{}}
	for _, m := range ms {
		for _, r := range m.Roles {
			if _, ok := rolePermissions[r]; !ok {
				panic(fmt.Sprintf("fakeidp: unknown ZITADEL role %q", r))
			}
		}
		if m.IAM {
			p.iamRoles = append(p.iamRoles, m.Roles...)
		} else {
			p.orgRoles[m.OrgID] = append(p.orgRoles[m.OrgID], m.Roles...)
		}
	}
	z.state.Lock()
	defer z.state.Unlock()
	z.orgs[orgID] = true
	for org := range p.orgRoles {
		z.orgs[org] = true
	}
	p.userID = z.newID()
	z.tokens[token] = p
}

// The permissions the fake checks.
const (
	permRead  = "user.read"
	permWrite = "user.write"
)

// hasMembership reports whether the principal has any role at all.
func (p principal) hasMembership() bool {
	if len(p.iamRoles) > 0 {
		return true
	}
	for _, rs := range p.orgRoles {
		if len(rs) > 0 {
			return true
		}
	}
	return false
}

// permissionsIn lists the principal's permissions in org: those of its instance-wide roles and
// of its roles there, each once, in the order of the real lists.
func (p principal) permissionsIn(org string) []string {
	var out []string
	for _, r := range append(slices.Clone(p.iamRoles), p.orgRoles[org]...) {
		for _, perm := range rolePermissions[r] {
			if !slices.Contains(out, perm) {
				out = append(out, perm)
			}
		}
	}
	return out
}

// may reports whether the principal holds perm in org; DenyWrite takes user.write away from
// everyone there. z.state must be held.
func (z *Zitadel) may(p principal, perm, org string) bool {
	if perm == permWrite && z.deny[org] {
		return false
	}
	return slices.Contains(p.permissionsIn(org), perm)
}

// denied runs the permission check of a call at one stage: beforeLookup is v1's check (in the
// acting organization, before the user is looked up), !beforeLookup v2's (in the user's
// organization, after its existence and state). It returns the answer when the call is denied:
// 404 AUTHZ-cdgFk for a caller without any role, 403 code 7 (v1 AUTH-5mWD2, v2 AUTH-AWfge)
// for one without perm in org. z.state must be held.
func (z *Zitadel) denied(p principal, api zitadelAPI, perm, org string, beforeLookup bool) (int, string, bool) {
	if (api == apiV1) != beforeLookup {
		return 0, "", false
	}
	if !p.hasMembership() {
		return http.StatusNotFound, zNoMembership, true
	}
	if !z.may(p, perm, org) {
		return http.StatusForbidden, zPermissionDenied[api], true
	}
	return 0, "", false
}

// permissions serves POST /auth/v1/permissions/zitadel/me/_search: the caller's permissions in
// the acting organization (its own, or x-zitadel-orgid); {} for a caller without any there.
func (z *Zitadel) permissions(w http.ResponseWriter, r *http.Request) {
	p, org, ok := z.authorize(w, r, apiV1)
	if !ok {
		return
	}
	z.state.RLock()
	perms := p.permissionsIn(org)
	if z.deny[org] {
		perms = slices.DeleteFunc(perms, func(s string) bool { return s == permWrite })
	}
	z.state.RUnlock()
	body := "{}"
	if len(perms) > 0 {
		b, _ := json.Marshal(struct {
			Result []string `json:"result"`
		}{perms})
		body = string(b)
	}
	z.reply(w, &zHeaders[apiV1][1], http.StatusOK, body)
}

type membershipDetails struct {
	Sequence      string `json:"sequence"`
	CreationDate  string `json:"creationDate"`
	ChangeDate    string `json:"changeDate"`
	ResourceOwner string `json:"resourceOwner"`
}

type membership struct {
	UserID      string            `json:"userId"`
	Details     membershipDetails `json:"details"`
	Roles       []string          `json:"roles"`
	DisplayName string            `json:"displayName"`
	OrgID       string            `json:"orgId,omitempty"`
	IAM         bool              `json:"iam,omitempty"`
}

// memberships serves POST /auth/v1/memberships/me/_search: the caller's roles, one entry per
// organization (orgId) or for the instance (iam: true); no result for a caller without a role.
func (z *Zitadel) memberships(w http.ResponseWriter, r *http.Request) {
	p, _, ok := z.authorize(w, r, apiV1)
	if !ok {
		return
	}
	now := protoTime(z.now().Truncate(time.Microsecond))
	d := membershipDetails{Sequence: "1", CreationDate: now, ChangeDate: now, ResourceOwner: p.orgID}
	var result []membership
	if len(p.iamRoles) > 0 {
		result = append(result, membership{UserID: p.userID, Details: d, Roles: p.iamRoles, DisplayName: "ZITADEL", IAM: true})
	}
	orgs := make([]string, 0, len(p.orgRoles))
	for org := range p.orgRoles {
		orgs = append(orgs, org)
	}
	slices.Sort(orgs)
	for _, org := range orgs {
		od := d
		od.ResourceOwner = org
		result = append(result, membership{UserID: p.userID, Details: od, Roles: p.orgRoles[org], DisplayName: org, OrgID: org})
	}
	type details struct {
		TotalResult   string `json:"totalResult,omitempty"`
		ViewTimestamp string `json:"viewTimestamp"`
	}
	out := struct {
		Details details      `json:"details"`
		Result  []membership `json:"result,omitempty"`
	}{Details: details{ViewTimestamp: now}, Result: result}
	if len(result) > 0 {
		out.Details.TotalResult = fmt.Sprint(len(result))
	}
	b, _ := json.Marshal(out)
	z.reply(w, &zHeaders[apiV1][1], http.StatusOK, string(b))
}
