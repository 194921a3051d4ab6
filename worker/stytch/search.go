// This file reads many members in one call, for plan: Get Organization resolves an id or slug to
// the canonical id, then Search Members by member_ids with every status reads up to 1,000
// members of that organization (docs/providers.md, "Stytch endpoints beside reactivate").

package stytch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"reactivator/internal/httpapi"
	"reactivator/jobs"
)

// MaxSearchMembers is the most member ids one SearchMembers call asks for (Search Members' limit).
const MaxSearchMembers = 1000

// memberStatuses are every status a member can have: Search Members shows deleted members only
// when "deleted" is named.
var memberStatuses = []string{"active", "deleted", "invited", "pending"}

// MembersByIDBody is the Search Members body that reads the members of ids in the canonical
// organization orgID, whatever their status, limit a page from cursor. Every body of this query
// is built here: an unknown filter name is refused, a misspelt field ignored.
func MembersByIDBody(orgID string, ids []string, cursor string, limit int) []byte {
	type operand struct {
		FilterName  string   `json:"filter_name"`
		FilterValue []string `json:"filter_value"`
	}
	body := map[string]any{
		"organization_ids": []string{orgID},
		"limit":            limit,
		"query": map[string]any{"operator": "AND", "operands": []operand{
			{FilterName: "member_ids", FilterValue: ids},
			{FilterName: "statuses", FilterValue: memberStatuses},
		}},
	}
	if cursor != "" {
		body["cursor"] = cursor
	}
	b, _ := json.Marshal(body)
	return b
}

// Organization returns the canonical id of the organization ref names (an id, a slug or an
// external id), with GET /v1/b2b/organizations/{ref}; found is false when Stytch knows no such
// organization. The error wraps jobs.ErrFatal when Stytch refuses the credentials or the base
// URL answers like no Stytch.
func (c *Client) Organization(ctx context.Context, ref string) (id string, found bool, err error) {
	escaped := c.base.EscapedPath() + "/v1/b2b/organizations/" + url.PathEscape(ref)
	var o struct {
		Organization struct {
			OrganizationID string `json:"organization_id"`
		} `json:"organization"`
	}
	res, err := c.readJSON(ctx, http.MethodGet, escaped, "", "organization "+ref, &o)
	switch {
	case err != nil:
		return "", false, err
	case NoSuchOrganization(res.ErrorType):
		return "", false, nil
	case res.HTTPStatus != http.StatusOK:
		return "", false, fmt.Errorf("stytch read of organization %s: HTTP %d: %s", ref, res.HTTPStatus, c.scrub(res.Message))
	case o.Organization.OrganizationID == "":
		return "", false, fmt.Errorf("stytch read of organization %s: HTTP 200 without an organization: not Stytch's answer", ref)
	}
	return o.Organization.OrganizationID, true, nil
}

// NoSuchOrganization says whether a Stytch error type means that an organization id, slug or
// external id names no organization of the project: organization_not_found,
// invalid_organization_slug or invalid_organization_external_id (docs/providers.md).
func NoSuchOrganization(errorType string) bool {
	switch errorType {
	case "organization_not_found", "invalid_organization_slug", "invalid_organization_external_id":
		return true
	}
	return false
}

// SearchMembers reads the members of ids (at most MaxSearchMembers) in the canonical
// organization orgID, whatever their status, with Search Members, following its cursor. A member
// missing from the answer is not in that organization: it may be in another one, or nowhere
// (ReadAccount tells which). Account.EmailVerified says whether a deleted member can be
// reactivated. Errors are as Organization's; organization_not_found is an error too.
func (c *Client) SearchMembers(ctx context.Context, orgID string, ids []string) ([]jobs.Account, error) {
	if len(ids) > MaxSearchMembers {
		return nil, fmt.Errorf("stytch search of %d members: at most %d a call", len(ids), MaxSearchMembers)
	}
	var out []jobs.Account
	escaped := c.base.EscapedPath() + "/v1/b2b/organizations/members/search"
	for cursor := ""; len(ids) > 0; {
		var page struct {
			RequestID       string       `json:"request_id"`
			Members         []memberBody `json:"members"`
			ResultsMetadata struct {
				NextCursor *string `json:"next_cursor"`
			} `json:"results_metadata"`
		}
		what := fmt.Sprintf("%d members of organization %s", len(ids), orgID)
		res, err := c.readJSON(ctx, http.MethodPost, escaped, string(MembersByIDBody(orgID, ids, cursor, MaxSearchMembers)), what, &page)
		if err != nil {
			return nil, err
		}
		if res.HTTPStatus != http.StatusOK {
			return nil, fmt.Errorf("stytch search of %s: HTTP %d: %s", what, res.HTTPStatus, c.scrub(res.Message))
		}
		for _, m := range page.Members {
			out = append(out, m.account(c.scrub(page.RequestID)))
		}
		if page.ResultsMetadata.NextCursor == nil || *page.ResultsMetadata.NextCursor == "" {
			return out, nil
		}
		cursor = *page.ResultsMetadata.NextCursor
	}
	return out, nil
}

// readJSON makes one read call and decodes a 200 into out. A refusal of the credentials (or an
// answer that is not Stytch's) wraps jobs.ErrFatal, as does a malformed search
// (member_search_*: a bug of ours); a call without an answer is a plain error. Other answers
// come back classified, with a nil error, for the caller to read.
func (c *Client) readJSON(ctx context.Context, method, escapedPath, body, what string, out any) (jobs.Result, error) {
	status, header, b, err := c.send(ctx, method, escapedPath, "", body)
	switch {
	case errors.Is(err, errPathChanged):
		return jobs.Result{}, fmt.Errorf("stytch read of %s: the id would change the URL's path", what)
	case err != nil:
		return jobs.Result{}, &scrubbedError{msg: "stytch read of " + what + ": " + c.scrub(httpapi.Redact(err)), err: err}
	}
	if status == http.StatusOK {
		if json.Unmarshal(b, out) != nil {
			return jobs.Result{}, fmt.Errorf("stytch read of %s: HTTP 200 but not Stytch's answer: check STYTCH_BASE_URL: %w", what, jobs.ErrFatal)
		}
		return jobs.Result{HTTPStatus: status}, nil
	}
	res := Classify(status, header, b)
	if res.Class == jobs.ClassFatal || strings.HasPrefix(res.ErrorType, "member_search_") {
		return res, fmt.Errorf("stytch read of %s: %s: %w", what, c.scrub(res.Message), jobs.ErrFatal)
	}
	return res, nil
}
