// This file resolves a row without a member id: Search Members
// (POST /v1/b2b/organizations/members/search) by member_emails in the row's organization, every
// status included (docs/providers.md, "Search members").

package stytch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"reactivator/internal/httpapi"
	"reactivator/jobs"
)

// lookupLimit is how many matches a lookup asks for: one is the answer, more say "ambiguous"
// and are listed in the row's message.
const lookupLimit = 20

// EmailSearchBody is the Search Members body that resolves a lookup: the members of the canonical
// organization orgID whose email is email (Stytch compares emails without case), of every status.
// Every lookup body is built here: Stytch refuses an unknown filter name but ignores a misspelt
// field.
func EmailSearchBody(orgID, email string, limit int) []byte {
	type operand struct {
		FilterName  string   `json:"filter_name"`
		FilterValue []string `json:"filter_value"`
	}
	b, _ := json.Marshal(map[string]any{
		"organization_ids": []string{orgID},
		"limit":            limit,
		"query": map[string]any{"operator": "AND", "operands": []operand{
			{FilterName: "member_emails", FilterValue: []string{email}},
			{FilterName: "statuses", FilterValue: memberStatuses},
		}},
	})
	return b
}

// Resolve finds the members row r names by email in its organization (jobs.Resolver) with one
// Search Members call: none, one, or several (at most 20). Search Members needs the canonical
// organization id: a row naming its organization by slug or external id costs one Get
// Organization first, once per organization for the client's life. An organization that does not
// exist has no member: no accounts, no error. A row that is not a Stytch email row is refused
// before any call. The error wraps jobs.ErrFatal when Stytch refuses the credentials or the base
// URL answers like no Stytch, or the search itself is malformed (a member_search_* error, a bug
// of ours); any other error means the read gave nothing usable.
func (c *Client) Resolve(ctx context.Context, r jobs.Row) ([]jobs.Account, error) {
	if r.Provider != jobs.Stytch || !r.NeedsLookup() {
		return nil, fmt.Errorf("stytch lookup: line %d is not a Stytch row without a member id", r.Line)
	}
	if err := c.checkRow(r); err != nil {
		return nil, errors.New("stytch lookup: " + c.scrub(err.Error()))
	}
	what := fmt.Sprintf("stytch lookup of email %s in organization %s", r.LookupValue, r.OrgID)
	org, found, err := c.canonicalOrg(ctx, r.OrgID)
	if err != nil || !found {
		return nil, err
	}
	status, header, body, err := c.send(ctx, http.MethodPost, c.base.EscapedPath()+"/v1/b2b/organizations/members/search", "",
		string(EmailSearchBody(org, r.LookupValue, lookupLimit)))
	if err != nil {
		return nil, &scrubbedError{msg: what + ": " + c.scrub(httpapi.Redact(err)), err: err}
	}
	if status == http.StatusOK {
		var b struct {
			RequestID string        `json:"request_id"`
			Members   *[]memberBody `json:"members"`
		}
		if json.Unmarshal(body, &b) != nil || b.Members == nil {
			return nil, fmt.Errorf("%s: HTTP 200 without members: not Stytch's answer to a search: %s", what, hintBaseURL)
		}
		out := make([]jobs.Account, 0, len(*b.Members))
		for _, m := range *b.Members {
			out = append(out, m.account(c.scrub(b.RequestID)))
		}
		return out, nil
	}
	res := Classify(status, header, body)
	if res.ErrorType == "organization_not_found" {
		return nil, nil
	}
	return nil, c.lookupError(what, status, res)
}

// lookupError is the error of a refused lookup read.
func (c *Client) lookupError(what string, status int, res jobs.Result) error {
	msg := c.scrub(res.Message)
	if res.RequestID != "" {
		msg += " (request " + c.scrub(res.RequestID) + ")"
	}
	if res.Class == jobs.ClassFatal || strings.HasPrefix(res.ErrorType, "member_search_") {
		return fmt.Errorf("%s: HTTP %d: %s: %w", what, status, msg, jobs.ErrFatal)
	}
	return fmt.Errorf("%s: HTTP %d: %s", what, status, msg)
}

// canonicalOrg returns the canonical id of an organization named by id, slug or external id:
// an organization- id as it is, anything else by Organization (Get Organization), remembered.
// found is false for an organization Stytch does not know.
func (c *Client) canonicalOrg(ctx context.Context, ref string) (id string, found bool, err error) {
	if strings.HasPrefix(ref, "organization-") {
		return ref, true, nil
	}
	if v, ok := c.orgIDs.Load(ref); ok {
		return v.(string), true, nil
	}
	id, found, err = c.Organization(ctx, ref)
	if found {
		c.orgIDs.Store(ref, id)
	}
	return id, found, err
}
