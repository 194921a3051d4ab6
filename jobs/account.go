// This file defines Account, what a read of one account found, and the reasons a read gives.

package jobs

import (
	"context"
	"time"
)

// AccountState is an account's state as a provider read reports it, in our own words.
type AccountState string

// The states a read can report. Both providers map their own words onto these.
const (
	// StateActive: ZITADEL USER_STATE_ACTIVE, Stytch status "active".
	StateActive AccountState = "active"
	// StateDeactivated: ZITADEL USER_STATE_INACTIVE, Stytch status "deleted": reactivate can bring it back.
	StateDeactivated AccountState = "deactivated"
	// StateLocked: ZITADEL USER_STATE_LOCKED: needs an unlock, not a reactivation.
	StateLocked AccountState = "locked"
	// StateInitial: ZITADEL USER_STATE_INITIAL: never set up.
	StateInitial AccountState = "initial"
	// StateInvited: Stytch status "invited".
	StateInvited AccountState = "invited"
	// StatePending: Stytch status "pending".
	StatePending AccountState = "pending"
	// StateNotFound: the read found no such account (ZITADEL QUERY-Dfbg2, Stytch member_not_found).
	StateNotFound AccountState = "not_found"
	// StateUnknown: the read answered a state we do not know; its raw word is in Account.Raw.
	StateUnknown AccountState = "unknown"
)

// Account is what one read of one account found.
type Account struct {
	// ID is the account's provider id (ZITADEL user id, Stytch member id).
	ID string
	// OrgID is the organisation it lives in (ZITADEL resourceOwner, Stytch organization_id).
	OrgID string
	// Email is its primary email address, when the read shows one.
	Email string
	// EmailVerified is Stytch's email_address_verified: a deleted member needs a verified email
	// to be reactivated. ZITADEL reads leave it false.
	EmailVerified bool
	State         AccountState
	// Raw is the provider's own word for the state (USER_STATE_LOCKED, deleted…).
	Raw string
	// ChangedAt is when the account last changed: ZITADEL details.changeDate, Stytch updated_at.
	// Zero when the read does not say.
	ChangedAt time.Time
	// RequestID is the read's request id.
	RequestID string
}

// Reader reads one account. Both provider clients implement it. The error wraps ErrFatal when
// the credentials or permissions are refused; any other error (transport, 5xx, an unexpected
// body) means the read gave nothing usable. A missing account is State StateNotFound, no error.
type Reader interface {
	ReadAccount(ctx context.Context, r Row) (Account, error)
}

// Resolver finds the accounts a row without an id names by its Lookup (an email, login name or
// user name), with one read. Both provider clients implement it. No match is an empty slice and
// no error. The error wraps ErrFatal when the credentials or permissions are refused; any other
// error means the read gave nothing usable.
type Resolver interface {
	Resolve(ctx context.Context, r Row) ([]Account, error)
}

// Reasons of a row whose lookup did not find exactly one account (docs/design.md, "Input").
const (
	// ReasonNoAccountWithEmail: the lookup found no account (the outcome is not_found).
	ReasonNoAccountWithEmail = "no_account_with_email"
	// ReasonAmbiguous: the lookup found several accounts; the message lists them (rejected).
	ReasonAmbiguous = "ambiguous"
)

// Reasons a read of the account gives to a not_deactivated row (design: "not_deactivated says
// the account's state") and the reasons of the ambiguous-call rule.
const (
	ReasonAlreadyActive = "already_active"
	ReasonLocked        = "locked"
	ReasonInitial       = "initial"
	ReasonInvited       = "invited"
	ReasonPending       = "pending"
	ReasonStateUnknown  = "state_unknown"
	// ReasonAssumedOnRetry marks a row whose earlier attempt may have reached the provider and
	// whose retry answered "not deactivated", but whose read did not decide it: the read failed,
	// gave no change time, or showed the account still deactivated or missing (lagging behind
	// the write side). An undo row ends deactivated with it when the retry of such an attempt
	// finds the account already deactivated.
	ReasonAssumedOnRetry = "assumed_on_retry"
	// ReasonNoPermissionInOrg marks a ZITADEL row refused with 403 because the service user has
	// user.write in some organisations but not in the row's.
	ReasonNoPermissionInOrg = "no_permission_in_org"
)

// NotDeactivatedReason maps a read account's state to the reason a not_deactivated row records.
func NotDeactivatedReason(s AccountState) string {
	switch s {
	case StateActive:
		return ReasonAlreadyActive
	case StateLocked:
		return ReasonLocked
	case StateInitial:
		return ReasonInitial
	case StateInvited:
		return ReasonInvited
	case StatePending:
		return ReasonPending
	}
	return ReasonStateUnknown
}

// ReasonAdvice says what the operator should do about a not_deactivated row with reason r.
func ReasonAdvice(r string) string {
	switch r {
	case ReasonAlreadyActive:
		return "already active: nothing to do"
	case ReasonLocked:
		return "the account is locked, not deactivated: unlock it (ZITADEL: unlock user), reactivate cannot"
	case ReasonInitial:
		return "the account was never set up (initial): the user must finish sign-up, or resend the initialisation mail"
	case ReasonInvited:
		return "the member is invited, not deleted: the invitation must be accepted, reactivate cannot help"
	case ReasonPending:
		return "the member is pending, not deleted: it must finish sign-up, reactivate cannot help"
	case ReasonStateUnknown:
		return "the provider says the account is not deactivated, but its state could not be read: look it up"
	}
	return ""
}
