// This file finds Stytch's deleted members: each --org resolved to its canonical id
// (GET /v1/b2b/organizations/{id|slug}), then Search Members with statuses ["deleted"], paged by
// cursor and paced (at most 100 searches a minute by default).

package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"reactivator/jobs"
	"reactivator/worker/stytch"
)

// ErrUnknownOrg is an --org that names no organization of the Stytch project.
var ErrUnknownOrg = errors.New("no such Stytch organization")

// DefaultSearchRate is Stytch's documented limit on member searches: 100 a minute.
var DefaultSearchRate = rate.Every(time.Minute / 100)

// StytchQuery says which deleted members to find.
type StytchQuery struct {
	// Orgs are organization ids or slugs; at least one is required.
	Orgs []string
	// EmailDomain keeps members whose email ends with "@" + EmailDomain (case-insensitive).
	EmailDomain string
	// PageSize is the members asked for per search; 0 means DefaultPageSize.
	PageSize int
	// Limiter paces the searches; nil means DefaultSearchRate with a burst of one.
	Limiter *rate.Limiter
	// Progress gets a line per page; nil means none.
	Progress io.Writer
}

// Validate checks the query without calling anything.
func (q StytchQuery) Validate() error {
	if len(q.Orgs) == 0 {
		return errors.New("--org: give at least one organization id or slug")
	}
	if q.PageSize < 0 || q.PageSize > DefaultPageSize {
		return fmt.Errorf("PageSize %d: want 0 to %d", q.PageSize, DefaultPageSize)
	}
	if strings.Contains(q.EmailDomain, "@") {
		return fmt.Errorf("--email-domain %q: give the domain only, e.g. example.com", q.EmailDomain)
	}
	return nil
}

// Stytch finds the deleted members of q through c. Every org is resolved before the first
// search, so an unknown one (ErrUnknownOrg) stops the search before it starts.
func Stytch(ctx context.Context, c Caller, q StytchQuery) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	res := &Result{Provider: string(jobs.Stytch), Header: StytchColumns}
	var ids []string
	for _, ref := range q.Orgs {
		id, err := stytchOrg(ctx, c, ref, res)
		if err != nil {
			return nil, err
		}
		if !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	lim := q.Limiter
	if lim == nil {
		lim = rate.NewLimiter(DefaultSearchRate, 1)
	}
	size := q.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	suffix := "@" + strings.ToLower(q.EmailDomain)
	listed := 0
	for cursor := ""; ; {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
		var page struct {
			Members []struct {
				OrganizationID string `json:"organization_id"`
				MemberID       string `json:"member_id"`
				EmailAddress   string `json:"email_address"`
				Status         string `json:"status"`
			} `json:"members"`
			ResultsMetadata struct {
				NextCursor *string `json:"next_cursor"`
			} `json:"results_metadata"`
		}
		if err := stytchCall(ctx, c, http.MethodPost, "/v1/b2b/organizations/members/search", SearchMembersBody(ids, q.EmailDomain, cursor, size), &page, res); err != nil {
			return nil, err
		}
		for _, m := range page.Members {
			if q.EmailDomain != "" && !strings.HasSuffix(strings.ToLower(m.EmailAddress), suffix) {
				continue
			}
			res.Rows = append(res.Rows, []string{m.OrganizationID, m.MemberID, m.EmailAddress, m.Status})
		}
		listed += len(page.Members)
		progress(q.Progress, "stytch: %d deleted members listed, %d kept", listed, len(res.Rows))
		if page.ResultsMetadata.NextCursor == nil || *page.ResultsMetadata.NextCursor == "" {
			return res, nil
		}
		cursor = *page.ResultsMetadata.NextCursor
	}
}

// SearchMembersBody is the body of one Search Members page: deleted members of the canonical
// organization ids (and, for a domain of 3 characters or more, emails containing "@domain").
// Every search body is built here: an unknown filter name is refused, a misspelt field ignored.
func SearchMembersBody(orgIDs []string, domain, cursor string, limit int) []byte {
	type operand struct {
		FilterName  string `json:"filter_name"`
		FilterValue any    `json:"filter_value"`
	}
	ops := []operand{{FilterName: "statuses", FilterValue: []string{"deleted"}}}
	if len(domain)+1 >= 3 && domain != "" {
		ops = append(ops, operand{FilterName: "member_email_fuzzy", FilterValue: "@" + domain})
	}
	body := map[string]any{
		"organization_ids": orgIDs,
		"limit":            limit,
		"query":            map[string]any{"operator": "AND", "operands": ops},
	}
	if cursor != "" {
		body["cursor"] = cursor
	}
	b, _ := json.Marshal(body)
	return b
}

// stytchOrg resolves an organization id or slug to its canonical id.
func stytchOrg(ctx context.Context, c Caller, ref string, res *Result) (string, error) {
	var o struct {
		Organization struct {
			OrganizationID string `json:"organization_id"`
		} `json:"organization"`
	}
	err := stytchCall(ctx, c, http.MethodGet, "/v1/b2b/organizations/"+url.PathEscape(ref), nil, &o, res)
	var se *stytchError
	if errors.As(err, &se) && stytch.NoSuchOrganization(se.Type) {
		return "", fmt.Errorf("--org %q: %w: give an organization id or slug of this project", ref, ErrUnknownOrg)
	}
	if err != nil {
		return "", err
	}
	if o.Organization.OrganizationID == "" {
		return "", fmt.Errorf("--org %q: %w", ref, ErrUnknownOrg)
	}
	return o.Organization.OrganizationID, nil
}

// stytchError is a Stytch error answer, by its error_type.
type stytchError struct {
	Status int
	Type   string
}

func (e *stytchError) Error() string { return fmt.Sprintf("stytch answered %d %s", e.Status, e.Type) }

// stytchCall makes one call and decodes a 200 into out; bad credentials wrap jobs.ErrFatal.
func stytchCall(ctx context.Context, c Caller, method, path string, body []byte, out any, res *Result) error {
	res.Calls++
	status, b, err := c.Call(ctx, method, path, body)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("stytch: %s %s answered 200 but not like Stytch: check STYTCH_BASE_URL", method, path)
		}
		return nil
	}
	var e struct {
		ErrorType string `json:"error_type"`
	}
	_ = json.Unmarshal(b, &e)
	se := &stytchError{Status: status, Type: e.ErrorType}
	if status == http.StatusUnauthorized || strings.HasPrefix(e.ErrorType, "member_search_") {
		return fmt.Errorf("stytch: %s %s: %w (check STYTCH_PROJECT_ID and STYTCH_SECRET): %w", method, path, se, jobs.ErrFatal)
	}
	return fmt.Errorf("stytch: %s %s: %w", method, path, se)
}
