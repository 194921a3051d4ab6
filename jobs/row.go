// This file defines Row, one account to reactivate, its identity and the validation of its ids.

package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Row is one account to reactivate, as read from one CSV line.
type Row struct {
	// Line is the 1-based line of the input file where the row starts (the header is line 1).
	Line     int
	Provider Provider
	// OrgID is Stytch's organization_id (an id, slug or external id) or ZITADEL's optional org id.
	OrgID string
	// MemberID is Stytch's member_id; empty for ZITADEL.
	MemberID string
	// UserID is ZITADEL's user id; empty for Stytch.
	UserID string
	// Lookup says how a row without an id names its account (its email, login name or user name);
	// "" for a row with an id. The worker resolves it with one read before the call
	// (docs/design.md, "Input").
	Lookup Lookup
	// LookupValue is the email, login name or user name of a Lookup row.
	LookupValue string
}

// Lookup is the column a row without an id names its account by.
type Lookup string

// The lookups a file may use instead of an id: Stytch rows by email within their organization,
// ZITADEL rows by any of the three.
const (
	LookupEmail     Lookup = "email"
	LookupLoginName Lookup = "login_name"
	LookupUsername  Lookup = "username"
)

// ParseLookup returns the lookup of a column name, false for a name that is none.
func ParseLookup(s string) (Lookup, bool) {
	switch l := Lookup(s); l {
	case LookupEmail, LookupLoginName, LookupUsername:
		return l, true
	}
	return "", false
}

// NeedsLookup reports whether the row names its account by a Lookup and has no id yet: the
// worker must resolve it before the call.
func (r Row) NeedsLookup() bool {
	return r.Lookup != "" && r.MemberID == "" && r.UserID == ""
}

// Resolved returns the row with the id a lookup found: the member (Stytch) or user (ZITADEL)
// acct, and for ZITADEL the organisation it lives in when the row named none, so a v1 call goes
// to the right organisation. Lookup stays set: the row is still keyed as read.
func (r Row) Resolved(acct Account) Row {
	switch r.Provider {
	case Stytch:
		r.MemberID = acct.ID
	case Zitadel:
		r.UserID = acct.ID
		if r.OrgID == "" {
			r.OrgID = acct.OrgID
		}
	}
	return r
}

// Key returns the row's identity within a run: the same provider and ids (or the same lookup)
// give the same key, whatever the line. Duplicates and task ids are keyed on it.
func (r Row) Key() string {
	h := sha256.New()
	for _, s := range []string{string(r.Provider), r.OrgID, r.MemberID, r.UserID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if r.Lookup != "" {
		// Only lookup rows hash these, so an id row keeps the key it always had.
		for _, s := range []string{string(r.Lookup), r.LookupValue} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:10])
}

// Validate checks the row's ids for its provider (docs/providers.md). The error is an
// *InvalidIDError that names the field and says why.
func (r Row) Validate() error {
	if r.NeedsLookup() {
		return r.validateLookup()
	}
	switch r.Provider {
	case Stytch:
		if err := checkID("organization_id", r.OrgID, 200); err != nil {
			return err
		}
		if err := checkID("member_id", r.MemberID, 200); err != nil {
			return err
		}
		if !strings.HasPrefix(r.MemberID, "member-") {
			return &InvalidIDError{Field: "member_id", Value: r.MemberID, Reason: "a Stytch member id starts with member-test- or member-live-"}
		}
		if e := envOf(r.MemberID, "member-"); e == "" {
			return &InvalidIDError{Field: "member_id", Value: r.MemberID, Reason: "a Stytch member id starts with member-test- or member-live-"}
		}
		if oe, me := envOf(r.OrgID, "organization-"), envOf(r.MemberID, "member-"); oe != "" && oe != me {
			return &InvalidIDError{Field: "organization_id", Value: r.OrgID, Reason: fmt.Sprintf("organization is %s but member is %s", oe, me)}
		}
		return nil
	case Zitadel:
		if err := checkID("user_id", r.UserID, 200); err != nil {
			return err
		}
		if r.OrgID != "" {
			return checkID("org_id", r.OrgID, 200)
		}
		return nil
	}
	return fmt.Errorf("unknown provider %q", r.Provider)
}

// validateLookup checks a row that names its account by email, login name or user name.
func (r Row) validateLookup() error {
	switch {
	case r.Provider == Stytch && r.Lookup != LookupEmail:
		return &InvalidIDError{Field: string(r.Lookup), Value: r.LookupValue, Reason: "Stytch rows are looked up by email only"}
	case r.Provider == Stytch:
		if err := checkID("organization_id", r.OrgID, 200); err != nil {
			return err
		}
	case r.Provider == Zitadel:
		if r.OrgID != "" {
			if err := checkID("org_id", r.OrgID, 200); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown provider %q", r.Provider)
	}
	if r.Lookup == LookupEmail {
		return checkEmail(r.LookupValue)
	}
	return checkName(string(r.Lookup), r.LookupValue)
}

// checkEmail refuses a value that is not one bare email address (no display name, no list).
func checkEmail(v string) error {
	if v == "" {
		return &InvalidIDError{Field: "email", Reason: "is empty"}
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
		return &InvalidIDError{Field: "email", Value: v, Reason: "is not an email address (want name@domain)"}
	}
	return checkName("email", v)
}

// checkName refuses an empty or overlong login name or user name, or one with spaces or control
// characters. It travels in a JSON body, never in a URL.
func checkName(field, v string) error {
	bad := func(reason string) error { return &InvalidIDError{Field: field, Value: v, Reason: reason} }
	switch {
	case v == "":
		return bad("is empty")
	case !utf8.ValidString(v):
		return bad("is not valid UTF-8")
	case utf8.RuneCountInString(v) > 320:
		return bad("is longer than 320 characters")
	}
	for _, c := range v {
		if unicode.IsControl(c) || unicode.IsSpace(c) {
			return bad("contains whitespace or a control character")
		}
	}
	return nil
}

// CheckStytchEnv refuses a row whose organization- or member- id belongs to the other
// environment than the project's ("test" or "live"). Slugs and external ids carry no environment.
func (r Row) CheckStytchEnv(env string) error {
	if e := envOf(r.MemberID, "member-"); e != "" && e != env {
		return &InvalidIDError{Field: "member_id", Value: r.MemberID, Reason: fmt.Sprintf("a %s member id cannot be used with a %s project", e, env)}
	}
	if e := envOf(r.OrgID, "organization-"); e != "" && e != env {
		return &InvalidIDError{Field: "organization_id", Value: r.OrgID, Reason: fmt.Sprintf("a %s organization id cannot be used with a %s project", e, env)}
	}
	return nil
}

// envOf returns "test" or "live" for ids like organization-test-…, "" for anything else.
func envOf(id, prefix string) string {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return ""
	}
	for _, e := range []string{"test", "live"} {
		if strings.HasPrefix(rest, e+"-") && len(rest) > len(e)+1 {
			return e
		}
	}
	return ""
}

// InvalidIDError says which id of a row is unusable and why.
type InvalidIDError struct {
	Field  string
	Value  string
	Reason string
}

func (e *InvalidIDError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// checkID refuses empty ids, ids too long, and ids that could change a URL's path or query.
func checkID(field, v string, max int) error {
	bad := func(reason string) error { return &InvalidIDError{Field: field, Value: v, Reason: reason} }
	if v == "" {
		return bad("is empty")
	}
	if !utf8.ValidString(v) {
		return bad("is not valid UTF-8")
	}
	if utf8.RuneCountInString(v) > max {
		return bad(fmt.Sprintf("is longer than %d characters", max))
	}
	if v == "." || v == ".." {
		return bad("is a path segment, not an id")
	}
	for _, c := range v {
		switch {
		case c == '/' || c == '\\':
			return bad("contains a slash")
		case c == '?' || c == '#' || c == '%':
			return bad(fmt.Sprintf("contains %q, which would change the URL", c))
		case unicode.IsControl(c):
			return bad("contains a control character")
		case unicode.IsSpace(c):
			return bad("contains whitespace")
		}
	}
	return nil
}
