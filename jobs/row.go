// This file is a row's vocabulary, from its CSV line to its outcome: Row, one account to
// reactivate, with its identity and the validation of its ids; the reactivate task that carries it
// (the task contract: its payload, constructor and deterministic task id); Result, what a provider
// client answers for its call; and the outcome it ends with: the classes an answer falls in, the
// outcomes, what an outcome means to an operator (its tone), and OutcomeRecord, how it is recorded.

package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hibiken/asynq"
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

// TaskMaxRetry is asynq's retry limit of a reactivate task. It is deliberately out of reach: the
// worker ends a row as failed itself after its --max-attempts and past its --max-row-age, counting
// attempts in the run store, so one setting governs every task however it was queued.
const TaskMaxRetry = 100000

// TaskTimeout bounds one handling of a reactivate task (asynq's default is 30 minutes). It covers
// waiting for the rate budget and the call itself; a call has its own, shorter timeout.
const TaskTimeout = 3 * time.Minute

// ReactivatePayload is the payload of a reactivate:stytch or reactivate:zitadel task.
// It carries ids only: never a credential.
type ReactivatePayload struct {
	RunID    string `json:"r"`
	Line     int    `json:"l"`
	OrgID    string `json:"o,omitempty"`
	MemberID string `json:"m,omitempty"`
	UserID   string `json:"u,omitempty"`
	// Lookup and LookupValue name the account of a row without an id (Row.Lookup).
	Lookup      Lookup `json:"k,omitempty"`
	LookupValue string `json:"v,omitempty"`
	// QueuedAt is when the row entered its provider's window (unix seconds); a row older than the
	// max row age ends failed.
	QueuedAt int64 `json:"t"`
	// QueuedAtMs is QueuedAt in unix milliseconds; 0 in tasks queued before it existed.
	QueuedAtMs int64 `json:"tm,omitempty"`
}

// Queued returns when the row entered its provider's window, to the millisecond when the task
// says.
func (p ReactivatePayload) Queued() time.Time {
	if p.QueuedAtMs > 0 {
		return time.UnixMilli(p.QueuedAtMs)
	}
	return time.Unix(p.QueuedAt, 0)
}

// Row returns the row the payload stands for.
func (p ReactivatePayload) Row(provider Provider) Row {
	return Row{Line: p.Line, Provider: provider, OrgID: p.OrgID, MemberID: p.MemberID, UserID: p.UserID,
		Lookup: p.Lookup, LookupValue: p.LookupValue}
}

// TaskID returns the asynq task id of a run's row: "<run id>:<row key>". It is scoped to the run
// because asynq refuses a task id while an old task with it exists, archived ones included.
func TaskID(runID string, r Row) string { return runID + ":" + r.Key() }

// NewReactivateTask returns the task that reactivates row r of run runID, with its task id and
// queue; queuedAt is when the row entered the window, where its age starts.
func NewReactivateTask(runID string, r Row, queuedAt time.Time, opts ...asynq.Option) (*asynq.Task, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(ReactivatePayload{RunID: runID, Line: r.Line, OrgID: r.OrgID, MemberID: r.MemberID, UserID: r.UserID,
		Lookup: r.Lookup, LookupValue: r.LookupValue, QueuedAt: queuedAt.Unix(), QueuedAtMs: queuedAt.UnixMilli()})
	if err != nil {
		return nil, err
	}
	opts = append([]asynq.Option{asynq.TaskID(TaskID(runID, r)), asynq.Queue(r.Provider.Queue()),
		asynq.MaxRetry(TaskMaxRetry), asynq.Timeout(TaskTimeout)}, opts...)
	return asynq.NewTask(r.Provider.TaskType(), b, opts...), nil
}

// ParseReactivatePayload decodes a reactivate task's payload and returns its row.
func ParseReactivatePayload(t *asynq.Task) (ReactivatePayload, Row, error) {
	var p ReactivatePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, Row{}, fmt.Errorf("decode %s payload: %w", t.Type(), err)
	}
	var prov Provider
	switch t.Type() {
	case TypeReactivateStytch:
		prov = Stytch
	case TypeReactivateZitadel:
		prov = Zitadel
	default:
		return p, Row{}, fmt.Errorf("task type %q is not a reactivate task", t.Type())
	}
	if p.RunID == "" || p.Line < 2 {
		return p, Row{}, fmt.Errorf("decode %s payload: run id or line missing", t.Type())
	}
	return p, p.Row(prov), nil
}

// Result is one reactivate call's answer, classified. Both provider clients return it.
type Result struct {
	// Class says what the answer means.
	Class Class
	// HTTPStatus is the answer's status, 0 when no answer came (timeout, reset, refused before the call).
	HTTPStatus int
	// RequestID is the provider's request id (Stytch's body request_id, ZITADEL's X-Request-Id).
	RequestID string
	// ErrorType is Stytch's error_type or ZITADEL's error detail id (COMMAND-…, AUTH-…); empty on success.
	ErrorType string
	// Message is a short human text: the provider's message or the transport error. Never a secret.
	Message string
	// RetryAfter is the provider's Retry-After (seconds or an HTTP date), 0 when absent.
	RetryAfter time.Duration
	// Ambiguous is true when the call may have reached the provider without an answer saying so:
	// a timeout, a reset connection or a 5xx. A later "not deactivated" then confirms the change.
	Ambiguous bool
	// Called is false when the client refused the row before any request was sent.
	Called bool
	// Reason, when set, is the reason the row records instead of ErrorType (for example
	// ReasonNoPermissionInOrg for a ZITADEL 403 the worker must not pause on).
	Reason string
	// Grant, on a fatal answer given for want of a role (the credentials work, the service user
	// lacks the permission), names the role to grant, as RoleError.Grant; empty otherwise.
	Grant string
}

// ErrFatal is wrapped by errors that stop a provider's queue: refused credentials, a missing
// permission, a base URL that answers like no provider. Provider clients' Check wraps it.
var ErrFatal = errors.New("fatal provider error")

// RoleError is a fatal refusal for want of a role: the credentials work, but the service user
// lacks the permission the work needs, so the fix is a grant, not other credentials. It wraps
// ErrFatal; callers find it with errors.As.
type RoleError struct {
	// Grant names the role to grant, e.g. "ORG_USER_MANAGER (in the organisations of the rows)
	// or IAM_USER_MANAGER".
	Grant string
	// Err is the refusal, as the user reads it.
	Err error
}

func (e *RoleError) Error() string { return e.Err.Error() }

// Unwrap returns Err and ErrFatal.
func (e *RoleError) Unwrap() []error { return []error{e.Err, ErrFatal} }

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
	// (timeout, reset, 5xx) and whose retry answered "not deactivated" (an undo row of Stytch:
	// "member not found"), with a read of the account that shows the earlier call worked.
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
		return "the account was not active (Stytch: already deleted): nothing to undo"
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

// OutcomeRecord is a row's recorded outcome.
type OutcomeRecord struct {
	Outcome    Outcome   `json:"o"`
	Reason     string    `json:"r,omitempty"`
	HTTPStatus int       `json:"s,omitempty"`
	RequestID  string    `json:"q,omitempty"`
	Attempts   int       `json:"a,omitempty"`
	FinishedAt time.Time `json:"-"`
	Finished   int64     `json:"t,omitempty"`
	Message    string    `json:"m,omitempty"`
	// ResolvedID is the member (Stytch) or user (ZITADEL) id the lookup of a row without an id
	// found, and ResolvedOrg the organisation it lives in; reports show them in the id columns.
	// A record with them is kept as JSON.
	ResolvedID  string `json:"id,omitempty"`
	ResolvedOrg string `json:"og,omitempty"`
}
