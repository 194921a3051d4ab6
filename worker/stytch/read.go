// ReadAccount is responsible for reading one member, deleted ones included:
// GET /v1/b2b/organizations/members/dangerously_get/{member_id}?include_deleted=true
// (docs/providers.md, "Get member").

package stytch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"reactivator/internal/httpapi"
	"reactivator/jobs"
)

// memberStates maps Stytch's member statuses onto ours.
var memberStates = map[string]jobs.AccountState{
	"active":  jobs.StateActive,
	"deleted": jobs.StateDeactivated,
	"invited": jobs.StateInvited,
	"pending": jobs.StatePending,
}

// readNotFound are the error types of a read that mean there is no such member.
var readNotFound = map[string]bool{"member_not_found": true, "member_does_not_exist_in_organization": true}

// ReadAccount reads the row's member (jobs.Reader) with dangerously get, which finds a member of
// any organization, deleted ones included; Account.OrgID says which organization it is in.
// A member that does not exist is State StateNotFound with no error. The error wraps
// jobs.ErrFatal when Stytch refuses the credentials or the base URL answers like no Stytch; any
// other error means the read gave nothing usable.
func (c *Client) ReadAccount(ctx context.Context, r jobs.Row) (jobs.Account, error) {
	if err := c.checkRow(r); err != nil {
		return jobs.Account{}, errors.New("stytch read: " + c.scrub(err.Error()))
	}
	escaped := c.base.EscapedPath() + "/v1/b2b/organizations/members/dangerously_get/" + url.PathEscape(r.MemberID)
	status, header, body, err := c.send(ctx, http.MethodGet, escaped, "include_deleted=true", "")
	switch {
	case errors.Is(err, errPathChanged):
		return jobs.Account{}, errors.New("stytch read: the member id would change the URL's path")
	case err != nil:
		return jobs.Account{}, &scrubbedError{msg: "stytch read of member " + r.MemberID + ": " + c.scrub(httpapi.Redact(err)), err: err}
	}
	if status == http.StatusOK {
		var b struct {
			RequestID string      `json:"request_id"`
			Member    *memberBody `json:"member"`
		}
		if json.Unmarshal(body, &b) != nil || b.Member == nil || b.Member.Status == "" {
			return jobs.Account{}, fmt.Errorf("stytch read of member %s: HTTP 200 without a member: not Stytch's answer to a read", r.MemberID)
		}
		return b.Member.account(c.scrub(b.RequestID)), nil
	}
	res := Classify(status, header, body)
	if readNotFound[res.ErrorType] {
		return jobs.Account{ID: r.MemberID, State: jobs.StateNotFound, RequestID: c.scrub(res.RequestID)}, nil
	}
	msg := c.scrub(res.Message)
	if res.RequestID != "" {
		msg += " (request " + c.scrub(res.RequestID) + ")"
	}
	if res.Class == jobs.ClassFatal {
		return jobs.Account{}, fmt.Errorf("stytch read of member %s: %s: %w", r.MemberID, msg, jobs.ErrFatal)
	}
	return jobs.Account{}, fmt.Errorf("stytch read of member %s: HTTP %d: %s", r.MemberID, status, msg)
}

// memberBody is a member object of Stytch's answers, as far as an Account needs it.
type memberBody struct {
	MemberID       string `json:"member_id"`
	OrganizationID string `json:"organization_id"`
	EmailAddress   string `json:"email_address"`
	Verified       bool   `json:"email_address_verified"`
	Status         string `json:"status"`
	UpdatedAt      string `json:"updated_at"`
}

// account returns the member as an Account read with request id reqID.
func (m memberBody) account(reqID string) jobs.Account {
	a := jobs.Account{ID: m.MemberID, OrgID: m.OrganizationID, Email: m.EmailAddress, EmailVerified: m.Verified, Raw: m.Status, RequestID: reqID}
	if a.State = memberStates[m.Status]; a.State == "" {
		a.State = jobs.StateUnknown
	}
	if t, err := time.Parse(time.RFC3339Nano, m.UpdatedAt); err == nil {
		a.ChangedAt = t
	}
	return a
}
