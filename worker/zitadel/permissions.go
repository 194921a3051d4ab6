// This file holds what the client learns, read-only, about its service user's permissions:
// its memberships (POST /auth/v1/memberships/me/_search) and, in each organisation it has a role
// in, whether its permissions there include user.write (POST
// /auth/v1/permissions/zitadel/me/_search with x-zitadel-orgid). The answer decides whether a
// 403 stops the provider or only rejects the row (docs/providers.md, "ZITADEL permissions").

package zitadel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"reactivator/jobs"
)

// Permissions is where the service user may write users (reactivate, deactivate).
type Permissions struct {
	// Instance is true when an instance-wide role (IAM_USER_MANAGER, IAM_OWNER) gives user.write
	// in every organisation.
	Instance bool
	// Orgs are the organisations where a role gives user.write, sorted.
	Orgs []string
	// Roles lists the roles found, "ROLE@org" or "ROLE@instance", for messages.
	Roles []string
}

// Anywhere reports whether the service user may write users in at least one organisation.
func (p Permissions) Anywhere() bool { return p.Instance || len(p.Orgs) > 0 }

// String says where the service user may write users.
func (p Permissions) String() string {
	switch {
	case p.Instance:
		return "may reactivate users in every organisation (instance-wide role)"
	case len(p.Orgs) > 0:
		return "may reactivate users in organisation " + strings.Join(p.Orgs, ", ")
	case len(p.Roles) > 0:
		return "has no user.write anywhere (roles " + strings.Join(p.Roles, ", ") + ")"
	}
	return "has no role at all"
}

// grantRoles are the roles that give user.write (jobs.RoleError.Grant).
const grantRoles = "ORG_USER_MANAGER (in the organisations of the rows) or IAM_USER_MANAGER"

// grantAdvice is what to do when the service user lacks user.write.
const grantAdvice = "grant the service user a role with user.write: " + grantRoles

// Refusal is the refusal of a service user that may write users nowhere (not Anywhere): a
// *jobs.RoleError (it wraps jobs.ErrFatal, Grant names the roles) that says what the look-up
// found, what the caller cannot do for it (so, e.g. "a run would reactivate no one") and the
// role to grant. It is nil when the service
// user may write users somewhere. plan, find and check refuse with it.
func (p Permissions) Refusal(so string) error {
	if p.Anywhere() {
		return nil
	}
	return &jobs.RoleError{Grant: grantRoles,
		Err: fmt.Errorf("the ZITADEL service user %s, so %s: %s: %w", p, so, grantAdvice, jobs.ErrFatal)}
}

// maxProbedOrgs bounds the permission look-ups of one probe.
const maxProbedOrgs = 50

// permsTTL is how long a probe's answer that the service user may write somewhere is used before
// the next 403 probes again; an answer that it may write nowhere is never reused for a 403.
const permsTTL = 5 * time.Minute

// permsCache holds the last probe's answer.
type permsCache struct {
	mu    sync.Mutex
	perms *Permissions
	at    time.Time
}

// Permissions probes where the service user may write users, read-only: its memberships, then
// the permissions in each organisation it has a role in (at most 50; an instance-wide role is
// checked once). The answer is kept for later 403s. An error wrapping jobs.ErrFatal means the
// credentials were refused; another error that the probe could not finish.
func (c *Client) Permissions(ctx context.Context) (Permissions, error) {
	var ms struct {
		Result []struct {
			OrgID string   `json:"orgId"`
			IAM   bool     `json:"iam"`
			Roles []string `json:"roles"`
		} `json:"result"`
	}
	if err := c.probe(ctx, "/auth/v1/memberships/me/_search", "", &ms); err != nil {
		return Permissions{}, err
	}
	var p Permissions
	var orgs []string
	iam := false
	for _, m := range ms.Result {
		where := m.OrgID
		if m.IAM {
			where, iam = "instance", true
		} else if m.OrgID != "" && !slices.Contains(orgs, m.OrgID) {
			orgs = append(orgs, m.OrgID)
		}
		for _, r := range m.Roles {
			p.Roles = append(p.Roles, r+"@"+where)
		}
	}
	if iam {
		ok, err := c.mayWrite(ctx, "")
		if err != nil {
			return Permissions{}, err
		}
		p.Instance = ok
	}
	if !p.Instance {
		slices.Sort(orgs)
		for _, org := range orgs[:min(len(orgs), maxProbedOrgs)] {
			ok, err := c.mayWrite(ctx, org)
			if err != nil {
				return Permissions{}, err
			}
			if ok {
				p.Orgs = append(p.Orgs, org)
			}
		}
	}
	c.perms.mu.Lock()
	c.perms.perms, c.perms.at = &p, time.Now()
	c.perms.mu.Unlock()
	return p, nil
}

// mayWrite reports whether the permissions in org ("" the service user's own) include user.write.
func (c *Client) mayWrite(ctx context.Context, org string) (bool, error) {
	var ps struct {
		Result []string `json:"result"`
	}
	if err := c.probe(ctx, "/auth/v1/permissions/zitadel/me/_search", org, &ps); err != nil {
		return false, err
	}
	return slices.Contains(ps.Result, "user.write"), nil
}

// probe POSTs {} to path and decodes a 200 into out.
func (c *Client) probe(ctx context.Context, path, org string, out any) error {
	ans, tok, res, ok := c.send(ctx, http.MethodPost, path, org)
	if !ok {
		return c.probeError(path, res.Class, res.Message)
	}
	if ans.status == http.StatusOK {
		if err := json.Unmarshal(ans.body, out); err != nil {
			return fmt.Errorf("zitadel permission probe: POST %s answered 200 but not like ZITADEL: check ZITADEL_URL: %w", path, jobs.ErrFatal)
		}
		return nil
	}
	res = Classify(APIv2, false, ans.status, ans.header, ans.body)
	return c.probeError(path, res.Class, c.scrub(strings.Replace(res.Message, checkCredentialsAdvice, c.advice, 1), tok))
}

func (c *Client) probeError(path string, class jobs.Class, msg string) error {
	if class == jobs.ClassFatal {
		return fmt.Errorf("zitadel permission probe: POST %s: %s: %w", path, msg, jobs.ErrFatal)
	}
	return fmt.Errorf("zitadel permission probe: POST %s: %s", path, msg)
}

// cachedPermissions returns the last probe's answer while it is fresh, else probes.
func (c *Client) cachedPermissions(ctx context.Context) (Permissions, error) {
	c.perms.mu.Lock()
	p, at := c.perms.perms, c.perms.at
	c.perms.mu.Unlock()
	if p != nil && time.Since(at) < permsTTL {
		return *p, nil
	}
	return c.Permissions(ctx)
}

// permissionAnswer decides a 403 code 7 of a reactivate or deactivate (res, fatal as Classify
// gives it): the row is rejected, reason no_permission_in_org, when the service user may write
// users somewhere; the answer stays fatal when it may nowhere; it is transient (the row waits,
// nothing pauses) when the probe could not tell. Only the fatal answer for want of a role
// carries Grant.
func (c *Client) permissionAnswer(ctx context.Context, res jobs.Result) jobs.Result {
	res.Grant = ""
	p, err := c.cachedPermissions(ctx)
	if err == nil && !p.Anywhere() {
		// About to pause the provider: ask afresh, as a role granted since the last probe (the
		// operator's fix before `resume`) must not pause it again.
		p, err = c.Permissions(ctx)
	}
	switch {
	case errors.Is(err, jobs.ErrFatal):
		res.Class, res.Message = jobs.ClassFatal, clip(err.Error())
	case err != nil:
		res.Class = jobs.ClassTransient
		res.Message = clip("no permission for this user (" + res.ErrorType + "), and the permission look-up failed: " + err.Error())
	case p.Anywhere():
		res.Class, res.Reason = jobs.ClassRejected, jobs.ReasonNoPermissionInOrg
		res.Message = clip("the service user may not change users of this user's organisation (" + res.ErrorType + "; it " + p.String() + "): grant it ORG_USER_MANAGER there, or give these rows to a service user with IAM_USER_MANAGER")
	default:
		res.Class, res.Grant = jobs.ClassFatal, grantRoles
		res.Message = clip("the service user has no user.write in any organisation (" + res.ErrorType + "): " + grantAdvice)
	}
	return res
}

// isPermissionDenied reports whether an answer is ZITADEL's code 7 for a missing permission (not
// v1's unknown organisation).
func isPermissionDenied(body []byte) bool {
	a := parseAnswer(body)
	return a.code == codePermissionDenied && !a.has(map[string]bool{orgNotFoundID: true})
}
