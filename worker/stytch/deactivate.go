// Deactivate is responsible for deleting one member, the reverse of reactivate, for undo:
// DELETE /v1/b2b/organizations/{organization_id}/members/{member_id} (docs/providers.md, "Delete").

package stytch

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"reactivator/internal/httpapi"
	"reactivator/jobs"
)

// Deactivate deletes the row's member (a soft delete that Reactivate undoes) and classifies the
// answer: 200 with the member id is jobs.ClassDeactivated; error types as for Reactivate
// (Classify). Stytch does not document the answer for a member that is already deleted; the
// fake answers member_not_found (not_found), and a no_deleted… answer cannot come. Rows are
// refused before the call as by Reactivate.
func (c *Client) Deactivate(ctx context.Context, r jobs.Row) jobs.Result {
	if err := c.checkRow(r); err != nil {
		return jobs.Result{Class: jobs.ClassRejected, Message: c.scrub(err.Error())}
	}
	if ctx.Err() != nil {
		return jobs.Result{Class: jobs.ClassTransient, Message: "call interrupted before it was sent"}
	}
	escaped := c.base.EscapedPath() + "/v1/b2b/organizations/" + url.PathEscape(r.OrgID) + "/members/" + url.PathEscape(r.MemberID)
	status, header, body, err := c.send(ctx, http.MethodDelete, escaped, "", "")
	var res jobs.Result
	switch {
	case errors.Is(err, errPathChanged):
		return jobs.Result{Class: jobs.ClassRejected, Message: "the ids would change the URL's path"}
	case err != nil:
		res = httpapi.TransportResult(err)
	default:
		res = Classify(status, header, body)
		if res.Class == jobs.ClassReactivated {
			res.Class, res.Message = jobs.ClassDeactivated, ""
		}
	}
	res.Called = true
	res.Message = c.scrub(res.Message)
	res.ErrorType = c.scrub(res.ErrorType)
	res.RequestID = c.scrub(res.RequestID)
	return res
}

// DeletedAnswer reports whether res, an answer of Deactivate, is the one a delete of a member
// already deleted gets (worker.Deleter): member_not_found, by its error type, as Delete finds no
// deleted member (the fake's answer; Stytch does not document it). The worker then reads the
// member, deleted ones included, to settle the undo row: deleted by an earlier attempt of ours,
// by someone else (nothing to undo), or no such member at all.
func (c *Client) DeletedAnswer(res jobs.Result) bool {
	return res.Class == jobs.ClassNotFound && res.ErrorType == "member_not_found"
}
