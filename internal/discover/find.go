// This file is find as a whole: a Request as the command line gives it, checked before any call
// (Validate), run with the client of the provider's settings into its file (Find), and said
// (Print).

package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"reactivator/internal/exitcode"
	"reactivator/internal/providers"
	"reactivator/jobs"
)

// Request is one find: the provider, its filters as the command line gives them, and the file
// to write.
type Request struct {
	// Provider is whose accounts are found.
	Provider jobs.Provider
	// Orgs, EmailDomain and PageSize are the query's (ZitadelQuery, StytchQuery).
	Orgs        []string
	EmailDomain string
	PageSize    int
	// After and Before bound ZITADEL's deactivation times: RFC 3339 or a duration ago ("2h");
	// "" leaves that end open. By keeps the users deactivated by this user id.
	After, Before, By string
	// Output is the CSV file Find writes; required.
	Output string
	// JSON makes Print print a Summary instead of the sentence.
	JSON bool
	// Progress gets a line per page; nil means none.
	Progress io.Writer

	zq ZitadelQuery // the queries Validate built
	sq StytchQuery
}

// Validate checks r before any call and builds its query, reading After and Before relative to
// now. Every error it returns is a bad command line (an *exitcode.UsageError): a window whose
// start is after its end, an unreadable time, no -o.
func (r *Request) Validate(now time.Time) error {
	if err := r.validate(now); err != nil {
		return exitcode.AsUsage(err)
	}
	return nil
}

func (r *Request) validate(now time.Time) error {
	if r.Output == "" {
		return errors.New("-o FILE.csv is required: find writes the accounts it finds there")
	}
	if r.Provider == jobs.Stytch {
		r.sq = StytchQuery{Orgs: r.Orgs, EmailDomain: r.EmailDomain, PageSize: r.PageSize}
		return r.sq.Validate()
	}
	r.zq = ZitadelQuery{Orgs: r.Orgs, EmailDomain: r.EmailDomain, By: r.By, PageSize: r.PageSize}
	for _, b := range []struct {
		flag, v string
		t       *time.Time
	}{{"--deactivated-after", r.After, &r.zq.After}, {"--deactivated-before", r.Before, &r.zq.Before}} {
		if b.v == "" {
			continue
		}
		t, err := ParseTime(b.v, now)
		if err != nil {
			return fmt.Errorf("%s: %w", b.flag, err)
		}
		*b.t = t
	}
	return r.zq.Validate()
}

// Find builds the client of r.Provider from ps, runs the search Validate built, and writes what
// it found to r.Output (whole or not at all). A provider ps has no credentials for is an error
// that says what to set (providers.NotConfigured); an unknown Stytch organization is a bad
// command line (an *exitcode.UsageError) wrapping ErrUnknownOrg.
func Find(ctx context.Context, ps providers.Set, r *Request) (*Result, error) {
	cl, err := ps.Clients(ctx, r.Provider)
	if err != nil {
		return nil, err
	}
	var res *Result
	switch {
	case r.Provider == jobs.Zitadel && cl.Zitadel != nil:
		r.zq.Progress = r.Progress
		res, err = Zitadel(ctx, cl.Zitadel, r.zq)
	case r.Provider == jobs.Stytch && cl.Stytch != nil:
		r.sq.Progress = r.Progress
		res, err = Stytch(ctx, cl.Stytch, r.sq)
	default:
		return nil, providers.NotConfigured(r.Provider)
	}
	if errors.Is(err, ErrUnknownOrg) {
		return nil, exitcode.AsUsage(err)
	} else if err != nil {
		return nil, err
	}
	return res, res.WriteFile(r.Output)
}

// Summary is what `find --json` prints: one object. Its field names and meanings are part of
// the program's interface.
type Summary struct {
	// Accounts is the number of accounts found: the file's rows.
	Accounts int `json:"accounts"`
	// Calls counts the requests the search made (listing, events, organization look-ups; not
	// ZITADEL's permission look-up).
	Calls int `json:"calls"`
	// File is the CSV written (Request.Output).
	File string `json:"file"`
	// Provider is stytch or zitadel.
	Provider string `json:"provider"`
}

// Print says to w what Find wrote for r: a sentence with the next step, or with r.JSON a Summary.
// Only the JSON encoding's error is returned.
func Print(w io.Writer, r *Request, res *Result) error {
	if r.JSON {
		return json.NewEncoder(w).Encode(Summary{Accounts: len(res.Rows), Calls: res.Calls, File: r.Output, Provider: res.Provider})
	}
	if len(res.Rows) == 0 {
		fmt.Fprintf(w, "found no %s account to restore: %s has the header only\n", res.Provider, r.Output)
		return nil
	}
	fmt.Fprintf(w, "found %d %s accounts to restore: %s (check it, then: reactivator run %s)\n", len(res.Rows), res.Provider, r.Output, r.Output)
	return nil
}
