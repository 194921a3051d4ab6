// This file holds the predictor: the outcome a run would give one row, from what the reads
// found, as a pure function of its inputs, following each provider's order of checks
// (docs/providers.md) and the worker's reasons (docs/design.md, "Outcomes decided by the
// provider's truth").

package plan

import (
	"fmt"
	"slices"

	"reactivator/jobs"
)

// Unknown is the outcome of a row whose account the reads could not see: the service user may
// not read it, so only a run can tell. It is no outcome a run records.
const Unknown = "unknown"

// ReasonNotReadable is Unknown's reason: the service user may not read the account (or its
// look-up failed), so only a run can tell.
const ReasonNotReadable = "not_readable"

// The error ids and types a run records as the reason of a not_found row: what a current
// ZITADEL answers a reactivate of a missing user (v2, v1), and Stytch's error types.
const (
	zitadelNotFoundV2  = "COMMAND-9hy5kzbuk6"
	zitadelNotFoundV1  = "COMMAND-4M0sd"
	stytchNoOrg        = "organization_not_found"
	stytchNoMember     = "member_not_found"
	stytchOtherOrg     = "member_does_not_exist_in_organization"
	stytchNotVerified  = "email_unverified_for_reactivation"
	zitadelAPIv1       = "v1"
	stateNotReadable   = "not_readable"
	stateNoSuchAccount = "not_found"
)

// Writes is where the ZITADEL service user may write users, as its permission look-up found.
type Writes struct {
	// Instance is true for an instance-wide role with user.write.
	Instance bool
	// Orgs are the organisations where it has user.write.
	Orgs []string
}

// may reports whether the service user may write users of org.
func (w Writes) may(org string) bool { return w.Instance || slices.Contains(w.Orgs, org) }

// Facts is what the reads found about one row's account.
type Facts struct {
	// Account is the account found; nil when none was.
	Account *jobs.Account
	// Unreadable, when not empty, says why the account could not be read (no permission to read
	// it): Account is nil, and whether it exists is unknown.
	Unreadable string
	// OrgMissing is true for a Stytch row whose organization does not exist.
	OrgMissing bool
	// OrgID is the canonical id of a Stytch row's organization.
	OrgID string
}

// Rules are the provider settings a prediction depends on.
type Rules struct {
	// ZitadelAPI is "v1" or "v2" ("" is v2).
	ZitadelAPI string
	// ActingOrg is the organisation a ZITADEL v1 call acts in for a row without its own org_id:
	// ZITADEL_ORG_ID, else the service user's own.
	ActingOrg string
	// Writes is where the ZITADEL service user may write users.
	Writes Writes
}

// Prediction is the outcome a run would give one row.
type Prediction struct {
	// Outcome is a jobs.Outcome, or Unknown.
	Outcome string
	Reason  string
	Message string
	// State is the account's state as read (jobs.AccountState), "not_found" when there is no such
	// account, "not_readable" when it could not be read, "" when it was not read.
	State string
}

// Predict returns the outcome a run would give the valid, first-seen row r whose reads found f.
// Invalid, duplicate and already finished rows are decided before (Plan).
func Predict(r jobs.Row, f Facts, rules Rules) Prediction {
	if r.Provider == jobs.Stytch {
		return predictStytch(r, f)
	}
	return predictZitadel(r, f, rules)
}

func predictStytch(r jobs.Row, f Facts) Prediction {
	a := f.Account
	switch {
	case f.OrgMissing:
		return Prediction{Outcome: string(jobs.NotFound), Reason: stytchNoOrg, State: stateNoSuchAccount,
			Message: fmt.Sprintf("no organization %s in this Stytch project", r.OrgID)}
	case a == nil && f.Unreadable != "":
		return unreadable(f)
	case a == nil || a.State == jobs.StateNotFound:
		return Prediction{Outcome: string(jobs.NotFound), Reason: stytchNoMember, State: stateNoSuchAccount,
			Message: "no member " + r.MemberID + " in this Stytch project"}
	case a.OrgID != f.OrgID:
		return Prediction{Outcome: string(jobs.NotFound), Reason: stytchOtherOrg, State: string(a.State),
			Message: fmt.Sprintf("member %s belongs to organization %s, not %s: fix the row's organization_id", r.MemberID, a.OrgID, r.OrgID)}
	case a.State == jobs.StateDeactivated && !a.EmailVerified:
		return Prediction{Outcome: string(jobs.UnverifiedEmail), Reason: stytchNotVerified, State: string(a.State),
			Message: "the member is deleted but has no verified email: Stytch will not reactivate it"}
	}
	return byState(a)
}

func predictZitadel(r jobs.Row, f Facts, rules Rules) Prediction {
	a := f.Account
	notFound := Prediction{Outcome: string(jobs.NotFound), Reason: zitadelNotFoundV2, State: stateNoSuchAccount,
		Message: "no user " + r.UserID + " (never existed, or removed)"}
	if rules.ZitadelAPI == zitadelAPIv1 {
		// v1 checks user.write in the acting organisation first, then looks the user up there.
		acting := r.OrgID
		if acting == "" {
			acting = rules.ActingOrg
		}
		if !rules.Writes.may(acting) {
			return noPermission(acting, stateOf(f))
		}
		notFound.Reason = zitadelNotFoundV1
		switch {
		case a != nil && a.State != jobs.StateNotFound && a.OrgID != acting:
			notFound.State = string(a.State)
			notFound.Message = fmt.Sprintf("user %s lives in organisation %s, but v1 looks in %s: give the row's org_id, or use ZITADEL_API=v2", r.UserID, a.OrgID, acting)
			return notFound
		case a == nil:
			// The service user may write, so read, users of the acting organisation: a user it
			// cannot see is not there, which is all v1 looks at.
			notFound.State = stateOf(f)
			return notFound
		}
	}
	switch {
	case a == nil && f.Unreadable != "":
		return unreadable(f)
	case a == nil || a.State == jobs.StateNotFound:
		return notFound
	case a.State == jobs.StateDeactivated && !rules.Writes.may(a.OrgID):
		// v2 checks the permission last: only a deactivated user meets it.
		return noPermission(a.OrgID, string(a.State))
	}
	return byState(a)
}

// byState is the prediction for an account the call would reach: reactivated when deactivated,
// else not_deactivated with the reason its state gives (the worker's read after the answer).
func byState(a *jobs.Account) Prediction {
	if a.State == jobs.StateDeactivated {
		return Prediction{Outcome: string(jobs.Reactivated), State: string(a.State), Message: "would be reactivated"}
	}
	reason := jobs.NotDeactivatedReason(a.State)
	return Prediction{Outcome: string(jobs.NotDeactivated), Reason: reason, State: string(a.State), Message: jobs.ReasonAdvice(reason)}
}

func noPermission(org, state string) Prediction {
	return Prediction{Outcome: string(jobs.Rejected), Reason: jobs.ReasonNoPermissionInOrg, State: state,
		Message: "the service user may not change users of organisation " + org + ": grant it ORG_USER_MANAGER there, or give these rows to a service user with IAM_USER_MANAGER"}
}

func unreadable(f Facts) Prediction {
	return Prediction{Outcome: Unknown, Reason: ReasonNotReadable, State: stateNotReadable,
		Message: "the service user may not read this account, so only a run can tell: " + f.Unreadable}
}

// stateOf is the state column of what the reads found.
func stateOf(f Facts) string {
	switch {
	case f.Account != nil && f.Account.State != jobs.StateNotFound:
		return string(f.Account.State)
	case f.Unreadable != "":
		return stateNotReadable
	}
	return stateNoSuchAccount
}
