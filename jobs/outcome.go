// This file defines the outcomes a row can end with, the classes a provider answer falls in, and
// what an outcome means to an operator (its tone), the same in every view.

package jobs

// Outcome is how one input row ended. Every row ends with exactly one.
type Outcome string

// The outcomes of docs/design.md, in report order.
const (
	Reactivated Outcome = "reactivated"
	// Deactivated and NotActive end the rows of an undo run (design: "undo RUN"): the account
	// was deactivated (Stytch: the member deleted), or was not active, so nothing was done.
	Deactivated     Outcome = "deactivated"
	NotActive       Outcome = "not_active"
	NotDeactivated  Outcome = "not_deactivated"
	UnverifiedEmail Outcome = "unverified_email"
	NotFound        Outcome = "not_found"
	Rejected        Outcome = "rejected"
	Failed          Outcome = "failed"
	Invalid         Outcome = "invalid"
	Duplicate       Outcome = "duplicate"
	Cancelled       Outcome = "cancelled"
)

// Outcomes lists every outcome in report order.
var Outcomes = []Outcome{Reactivated, Deactivated, NotActive, NotDeactivated, UnverifiedEmail, NotFound, Rejected, Failed, Invalid, Duplicate, Cancelled}

// Permanent reports whether o is a permanent failure: a row the operator has to look at.
// reactivated, duplicate, and an undo's deactivated and not_active (the account is inactive, as
// the undo wants) are not.
func (o Outcome) Permanent() bool {
	switch o {
	case Reactivated, Duplicate, Deactivated, NotActive:
		return false
	}
	return o.Valid()
}

// Valid reports whether o is one of Outcomes.
func (o Outcome) Valid() bool {
	for _, k := range Outcomes {
		if k == o {
			return true
		}
	}
	return false
}

// Reasons that qualify an outcome.
const (
	// ReasonConfirmedOnRetry marks a row whose earlier attempt may have reached the provider
	// (timeout, reset, 5xx) and whose retry answered "not deactivated": the earlier call worked.
	ReasonConfirmedOnRetry = "confirmed_on_retry"
)

// Class is what a provider's answer to one reactivate call means.
type Class string

// The classes a client sorts every answer into (docs/providers.md).
const (
	ClassReactivated     Class = "reactivated"
	ClassNotDeactivated  Class = "not_deactivated"
	ClassUnverifiedEmail Class = "unverified_email"
	ClassNotFound        Class = "not_found"
	ClassRejected        Class = "rejected"
	// ClassTransient answers are retried: 429, 5xx, timeouts, connection resets.
	ClassTransient Class = "transient"
	// ClassFatal answers stop the provider's queue: bad credentials, missing permission, wrong base URL.
	ClassFatal Class = "fatal"

	// ClassDeactivated and ClassNotActive are the answers of a deactivate call (design: "undo
	// RUN"): the account was deactivated, or was not active (already deactivated) so nothing was
	// done. They end the rows of an undo run as deactivated and not_active.
	ClassDeactivated Class = "deactivated"
	ClassNotActive   Class = "not_active"
)

// Outcome returns the final outcome of a class, and false for transient and fatal classes,
// which end no row by themselves.
func (c Class) Outcome() (Outcome, bool) {
	switch c {
	case ClassReactivated:
		return Reactivated, true
	case ClassNotDeactivated:
		return NotDeactivated, true
	case ClassUnverifiedEmail:
		return UnverifiedEmail, true
	case ClassNotFound:
		return NotFound, true
	case ClassRejected:
		return Rejected, true
	case ClassDeactivated:
		return Deactivated, true
	case ClassNotActive:
		return NotActive, true
	}
	return "", false
}

// Advice returns what the operator should do about rows that ended with o, in a few words.
func (o Outcome) Advice() string {
	switch o {
	case Reactivated:
		return "done: nothing to do"
	case Deactivated:
		return "undone: the account is deactivated again (Stytch: the member is deleted)"
	case NotActive:
		return "the account was not active: nothing to undo"
	case NotDeactivated:
		return "see the reason: already_active needs nothing, locked needs an unlock, initial/invited/pending need sign-up"
	case UnverifiedEmail:
		return "verify an email of the member in Stytch, then re-run the failed-only report"
	case NotFound:
		return "check the ids / org"
	case Rejected:
		return "read the message"
	case Failed:
		return "transient errors outlasted the retries: re-run the failed-only report"
	case Invalid:
		return "fix the row in the file (see the message), then re-run the failed-only report"
	case Duplicate:
		return "repeats an earlier line: nothing to do"
	case Cancelled:
		return "re-run to finish"
	}
	return ""
}

// Tone is what a row's outcome means to an operator, for colours and for what counts as a
// failure: good (the account is active, as wanted), neutral (nothing to do) or bad (look at it).
type Tone string

// The tones of an outcome.
const (
	ToneGood    Tone = "ok"
	ToneNeutral Tone = "skip"
	ToneBad     Tone = "fail"
)

// ToneOf returns the tone of a row that ended with o for reason. A not_deactivated row whose
// account was found active (reason already_active) is good: the account is where the operator
// wants it; so is an undo's deactivated row.
func ToneOf(o Outcome, reason string) Tone {
	switch {
	case o == Reactivated, o == Deactivated:
		return ToneGood
	case o == NotDeactivated && reason == ReasonAlreadyActive:
		return ToneGood
	case !o.Permanent():
		return ToneNeutral
	}
	return ToneBad
}

// Failure reports whether a recorded outcome is one the operator has to look at: a permanent
// failure other than an account found already active. These are the rows of a failed-only report.
func (o OutcomeRecord) Failure() bool { return ToneOf(o.Outcome, o.Reason) == ToneBad }
