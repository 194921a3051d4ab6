// This file holds the reactivate handler: it turns one task into at most one provider call and
// exactly one recorded outcome. With it are its lookup of a row without an id (one read finds the
// account its email, login name or user name names before the call, docs/design.md, "Input", and
// withResolution puts that account on the outcome) and its retry policy (backoff with full
// jitter, Retry-After, and the errors that tell asynq a retry is not a failed attempt).

package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/jobs"
)

// Caller is a provider client: worker/stytch.Client and worker/zitadel.Client are Callers.
type Caller interface {
	// Reactivate makes one reactivate call and classifies the answer; it never returns a secret.
	Reactivate(ctx context.Context, r jobs.Row) jobs.Result
	// Check proves the credentials with a harmless read call; refused credentials wrap jobs.ErrFatal.
	Check(ctx context.Context) error
}

// LookupChecker is a provider client whose lookups can come back empty for want of a role rather
// than of a match: worker/zitadel.Client (ListUsers shows a service user without any role only
// itself). The worker asks CheckLookups before its first lookup read for the provider, again
// after a refusal, and again when CredentialsID changed since the check passed (a rotated token
// file may belong to another service user), so a role missing stops the provider instead of
// ending rows not_found.
type LookupChecker interface {
	// CheckLookups returns nil when the lookups can be trusted; an error wrapping jobs.ErrFatal
	// when the credentials are refused or the role is missing (then a *jobs.RoleError naming the
	// role to grant); another error when the check could not finish.
	CheckLookups(ctx context.Context) error
	// CredentialsID identifies the credentials the client sends now, never revealing them;
	// it changes when they do.
	CredentialsID() string
}

// Deactivator is a provider client that can also undo a reactivation (design: "undo RUN"):
// worker/stytch.Client (delete member) and worker/zitadel.Client are Deactivators.
type Deactivator interface {
	// Deactivate makes one deactivate call and classifies the answer (jobs.ClassDeactivated,
	// jobs.ClassNotActive, or as Reactivate's); it never returns a secret.
	Deactivate(ctx context.Context, r jobs.Row) jobs.Result
}

// Deleter is a Deactivator whose deactivate deletes the account (worker/stytch.Client: Stytch
// has no deactivate, undo deletes the member), so that a delete of an account already deleted,
// by an earlier attempt of ours or by someone else, answers "not found", where a deactivate of
// an inactive account answers "not active" (docs/providers.md, "Delete"). A read of the account,
// deleted ones included, tells which (decideDeleted).
type Deleter interface {
	// DeletedAnswer reports whether res, an answer of Deactivate, is the one a delete of an
	// account already deleted gets.
	DeletedAnswer(res jobs.Result) bool
}

// budgetWait is the longest a task holds a worker slot waiting for the rate budget or a
// cool-down before it goes back to the queue.
const budgetWait = 20 * time.Second

type reactivateHandler struct {
	provider jobs.Provider
	caller   Caller
	srv      *Server
	pacer    *pacer
	lookups  lookupGate
}

// lookupGate remembers that the caller's LookupChecker passed, and with which credentials
// (LookupChecker.CredentialsID), for the life of the process.
type lookupGate struct {
	mu     sync.Mutex
	passed bool
	creds  string
}

func (h *reactivateHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, row, err := jobs.ParseReactivatePayload(t)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	s := h.srv
	log := slog.New(&laterAttrs{h: s.log.Handler(), attrs: []slog.Attr{
		slog.String("provider", string(h.provider)), slog.String("run", p.RunID), slog.Int("line", row.Line)}})
	// wait ends when ctx does or when the server stops: every wait below uses it. The request
	// itself uses ctx, so a call on the wire finishes on shutdown.
	wait, cancel := s.waitCtx(ctx)
	defer cancel()

	// A row that needs no call must not take a share of the rate budget: look first. Without a
	// limit Begin alone decides, unless the row needs a look-up read first.
	need := true
	runRate := s.runRate(ctx, p.RunID)
	if rate, _ := h.pacer.rate(); rate > 0 || runRate > 0 || row.NeedsLookup() {
		if need, err = s.store.NeedsCall(ctx, p.RunID, row.Line); err != nil {
			return notAnAttempt(err)
		}
	}
	if need {
		// A paused provider's rows go back before their age is looked at: a pause never burns rows.
		if err := s.halt(wait, h.provider, false); err != nil {
			return err
		}
		if age := s.clock.Now().Sub(p.Queued()); p.QueuedAt > 0 && age > s.cfg.MaxRowAge {
			// Ask the store too before ending a row: another worker's pause may be younger than
			// this process's view of it.
			if err := s.halt(wait, h.provider, true); err != nil {
				return err
			}
			return h.finish(ctx, log, p.RunID, row.Line, jobs.OutcomeRecord{Outcome: jobs.Failed, Reason: "max_row_age",
				Message: fmt.Sprintf("not reactivated within --max-row-age %s of entering the window of queued tasks", s.cfg.MaxRowAge)})
		}
		if row.NeedsLookup() {
			var done bool
			if row, done, err = h.resolve(ctx, wait, log, p.RunID, runRate, row); done || err != nil {
				return err
			}
		}
		if err := h.pacer.wait(wait, budgetWait, p.RunID, runRate); err != nil {
			return notAnAttempt(err)
		}
	}
	action, err := s.runAction(ctx, p.RunID)
	switch {
	case errors.Is(err, jobs.ErrRunNotFound):
		return nil // pruned while the task waited: never called, as Begin would say
	case err != nil:
		return notAnAttempt(err)
	}
	// The stop rule: right before the request leaves, Begin reads the fleet's pause in the same
	// round trip; a paused provider's row goes back uncalled, its attempt not counted.
	att, err := s.store.Begin(ctx, h.provider, p.RunID, row.Line)
	if err != nil {
		return notAnAttempt(err)
	}
	if att.Paused != nil {
		s.notePaused(h.provider, att.Paused.Reason)
		return s.pausedError(h.provider, att.Paused.Reason)
	}
	if att.Done {
		if att.Cancelled {
			s.countOutcome(h.provider, jobs.Cancelled)
			log.Debug("row cancelled before its call")
			if att.Finished {
				s.runFinished(ctx, p.RunID)
			}
		}
		return nil
	}
	// ... and a stop of this process since the wait ended does the same.
	if err := s.halt(wait, h.provider, false); err != nil {
		if uerr := s.store.Unbegin(context.WithoutCancel(ctx), p.RunID, row.Line); uerr != nil {
			log.Warn("could not take back an attempt that was not sent", "err", uerr)
		}
		return err
	}

	start := s.clock.Now()
	res := h.change(ctx, action, row)
	if m := s.cfg.Metrics; m != nil && res.Called {
		m.Calls.WithLabelValues(string(h.provider), string(res.Class)).Inc()
		m.CallDuration.WithLabelValues(string(h.provider)).Observe(s.clock.Now().Sub(start).Seconds())
	}

	if out, final := res.Class.Outcome(); final {
		rec := jobs.OutcomeRecord{Outcome: out, HTTPStatus: res.HTTPStatus, RequestID: res.RequestID, Attempts: att.N, Message: res.Message}
		if res.ErrorType != "" {
			rec.Reason = res.ErrorType
		}
		if res.Reason != "" {
			rec.Reason = res.Reason
		}
		if out == jobs.NotDeactivated {
			rec = h.decideNotDeactivated(ctx, wait, log, p.RunID, runRate, row, att, rec)
		}
		if out == jobs.NotActive && att.MaybeApplied {
			rec = assumeDeactivated(rec)
		}
		if out == jobs.NotFound && action == jobs.ActionDeactivate {
			if d, ok := h.caller.(Deleter); ok && d.DeletedAnswer(res) {
				rec = h.decideDeleted(ctx, wait, log, p.RunID, runRate, row, att, rec)
			}
		}
		return h.finish(ctx, log, p.RunID, row.Line, withResolution(row, rec))
	}

	// Transient or fatal: the row stays open. A fatal answer pauses the fleet first: every
	// worker checks the pause right before its next call.
	if res.Class == jobs.ClassFatal {
		s.pause(ctx, h.provider, p.RunID, row.Line, res)
	}
	if err := s.store.EndAttempt(context.WithoutCancel(ctx), p.RunID, row.Line, res.Ambiguous); err != nil {
		return notAnAttempt(err)
	}
	if res.Class == jobs.ClassFatal {
		return s.pausedError(h.provider, res.Message)
	}
	if res.HTTPStatus == 429 {
		h.pacer.rateLimited(ctx, res.RetryAfter)
		return &RetryError{Reason: "429 " + res.Message, RetryAfter: max(res.RetryAfter, time.Second)}
	}
	if err := ctx.Err(); err != nil {
		// Shutting down mid-call: the task goes back to the queue; the attempt stays ambiguous.
		return &RetryError{Reason: "interrupted", RetryAfter: time.Second}
	}
	if retried, _ := asynq.GetRetryCount(ctx); retried+1 >= s.cfg.MaxAttempts {
		msg := fmt.Sprintf("%d failed attempts; last: %s", retried+1, res.Message)
		if att.MaybeApplied || res.Ambiguous {
			msg += "; an attempt may have reached the provider: check the account before retrying"
		}
		return h.finish(ctx, log, p.RunID, row.Line, withResolution(row, jobs.OutcomeRecord{Outcome: jobs.Failed, Reason: "attempts_exhausted",
			HTTPStatus: res.HTTPStatus, RequestID: res.RequestID, Attempts: att.N, Message: msg}))
	}
	log.Debug("transient answer, will retry", "status", res.HTTPStatus, "msg", res.Message, "attempt", att.N)
	return &RetryError{Reason: res.Message, RetryAfter: res.RetryAfter, Failure: true}
}

// laterAttrs is a slog.Handler that adds its attributes to the records it passes on, only when
// one is written: a row's logger (provider, run, line) costs a task nothing while the level
// writes nothing, where slog's With formats them for every task.
type laterAttrs struct {
	h     slog.Handler
	attrs []slog.Attr
}

func (l *laterAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *laterAttrs) Handle(ctx context.Context, r slog.Record) error {
	return l.h.WithAttrs(l.attrs).Handle(ctx, r)
}

func (l *laterAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &laterAttrs{h: l.h, attrs: append(l.attrs[:len(l.attrs):len(l.attrs)], attrs...)}
}

func (l *laterAttrs) WithGroup(name string) slog.Handler {
	return l.h.WithAttrs(l.attrs).WithGroup(name)
}

// change makes the one call of a row: the run's action decides which. The rest of the handling
// is the same for both.
func (h *reactivateHandler) change(ctx context.Context, action jobs.Action, row jobs.Row) jobs.Result {
	if action != jobs.ActionDeactivate {
		return h.caller.Reactivate(ctx, row)
	}
	d, ok := h.caller.(Deactivator)
	if !ok {
		return jobs.Result{Class: jobs.ClassRejected, Message: fmt.Sprintf("the %s client of this worker cannot deactivate: nothing was called", h.provider)}
	}
	return d.Deactivate(ctx, row)
}

// assumeDeactivated settles an undo row whose earlier attempt may have reached the provider and
// whose retry answered "not active": that earlier attempt most likely deactivated it.
func assumeDeactivated(rec jobs.OutcomeRecord) jobs.OutcomeRecord {
	rec.Outcome, rec.Reason = jobs.Deactivated, jobs.ReasonAssumedOnRetry
	rec.Message = "an earlier attempt timed out or failed after reaching the provider and this retry found the account not active: that attempt most likely deactivated it"
	return rec
}

// decideDeleted settles an undo row of a Deleter whose delete answered that the account is not
// found, as a delete of an account already deleted does: the repeat of our own delete, after an
// attempt that may have reached the provider, or a delete of an account someone else deleted
// between the run and its undo. A read of the account, deleted ones included, with a slot of the
// same rate budget and under the same stop rule as any read, decides (settleDeleted).
func (h *reactivateHandler) decideDeleted(ctx, wait context.Context, log *slog.Logger, runID string, runRate float64, row jobs.Row, att jobs.Attempt, rec jobs.OutcomeRecord) jobs.OutcomeRecord {
	acct, err := h.read(ctx, wait, runID, runRate, row)
	if err != nil {
		log.Debug("account read failed", "err", err)
	}
	return settleDeleted(att, acct, err, rec)
}

// settleDeleted decides an undo row whose delete answered "not found" (rec) from the read of
// its account (acct, or the read's error err). No account, deleted or not, stays not_found. An
// account the read shows deleted is not_active (someone else deleted it: nothing to undo),
// unless an earlier attempt may have reached the provider (att.MaybeApplied) and the account
// changed at or after that attempt began: then that attempt deleted it, deactivated,
// confirmed_on_retry. Any other read (it failed, gave no change time, or does not show the
// delete) decides nothing: after such an attempt the delete's answer stands as the one answer,
// deactivated, assumed_on_retry; without one the row stays not_found. Either way the message
// says what the read gave.
func settleDeleted(att jobs.Attempt, acct jobs.Account, err error, rec jobs.OutcomeRecord) jobs.OutcomeRecord {
	const earlier = "an earlier attempt timed out or failed after reaching the provider and this retry found the account gone"
	deleted := err == nil && acct.State == jobs.StateDeactivated
	switch {
	case err == nil && acct.State == jobs.StateNotFound:
		rec.Message += "; a read finds no such account, deleted or not"
		return rec
	case deleted && !att.MaybeApplied:
		return alreadyDeleted(rec, acct, "before this undo's delete, which found it gone")
	case deleted && !att.AmbiguousSince.IsZero() && !acct.ChangedAt.IsZero():
		at, since := acct.ChangedAt.UTC().Format(time.RFC3339), att.AmbiguousSince.UTC().Format(time.RFC3339)
		if !acct.ChangedAt.Before(att.AmbiguousSince.Add(-clockSkew)) {
			rec.Outcome, rec.Reason = jobs.Deactivated, jobs.ReasonConfirmedOnRetry
			rec.Message = fmt.Sprintf("%s; a read shows it deleted at %s, after that attempt began at %s", earlier, at, since)
			return rec
		}
		return alreadyDeleted(rec, acct, "before the first attempt began at "+since)
	}
	if !att.MaybeApplied {
		if err != nil {
			rec.Message += fmt.Sprintf("; the read that tells an account someone else deleted (nothing to undo) from one that does not exist failed (%v): check it", err)
		} else {
			rec.Message += fmt.Sprintf("; a read shows it %s (%s), not deleted: check it", acct.State, acct.Raw)
		}
		return rec
	}
	var why string
	switch {
	case err != nil:
		why = fmt.Sprintf("the account could not be read to confirm it (%v)", err)
	case deleted && acct.ChangedAt.IsZero():
		why = "a read shows it deleted but gives no change time to compare with when that attempt began"
	case deleted:
		why = "a read shows it deleted, but when the first ambiguous attempt began was not recorded, so its change time cannot be compared with it"
	default:
		why = fmt.Sprintf("a read still shows it %s (%s), most likely a read lagging behind the delete", acct.State, acct.Raw)
	}
	rec.Outcome, rec.Reason = jobs.Deactivated, jobs.ReasonAssumedOnRetry
	rec.Message = earlier + " (the run had reactivated it), so that attempt most likely deleted it; " + why + ": check it"
	return rec
}

// alreadyDeleted makes rec, an undo row whose delete found the account gone, not_active: a read
// shows the account deleted (acct), before, so not by this undo, and nothing was undone.
func alreadyDeleted(rec jobs.OutcomeRecord, acct jobs.Account, before string) jobs.OutcomeRecord {
	at := " (the read gives no time)"
	if !acct.ChangedAt.IsZero() {
		at = " at " + acct.ChangedAt.UTC().Format(time.RFC3339)
	}
	rec.Outcome = jobs.NotActive
	rec.Message = "the account was already deleted" + at + ", " + before + ": not by this undo; nothing was undone"
	return rec
}

// clockSkew is how far the provider's clock may run behind ours when a read's change time is
// compared with the start of an ambiguous attempt.
const clockSkew = 2 * time.Second

// decideNotDeactivated reads the account after a "not deactivated" answer and lets its state
// decide the reason (design: "not_deactivated says the account's state"), and, after an attempt
// that may have reached the provider, whether that attempt is what reactivated it. The read
// takes a slot of the same rate budget and obeys the stop rule; settleNotDeactivated decides.
func (h *reactivateHandler) decideNotDeactivated(ctx, wait context.Context, log *slog.Logger, runID string, runRate float64, row jobs.Row, att jobs.Attempt, rec jobs.OutcomeRecord) jobs.OutcomeRecord {
	acct, err := h.read(ctx, wait, runID, runRate, row)
	if err != nil {
		log.Debug("account read failed", "err", err)
	}
	return settleNotDeactivated(att, acct, err, rec)
}

// settleNotDeactivated decides a "not deactivated" row from the read of its account (acct, or
// the read's error err). A read that names the state decides the reason; after an attempt that
// may have reached the provider, an active account's change time decides whether that attempt
// reactivated it. Any other read leaves the provider's write side, which just said "not
// deactivated", as the one answer: after such an attempt the row is reactivated,
// assumed_on_retry, otherwise not_deactivated, state_unknown; either way the message says what
// the read gave (whyUnconfirmed).
func settleNotDeactivated(att jobs.Attempt, acct jobs.Account, err error, rec jobs.OutcomeRecord) jobs.OutcomeRecord {
	timed := !att.AmbiguousSince.IsZero() && !acct.ChangedAt.IsZero()
	switch {
	case err != nil:
	case acct.State == jobs.StateActive && att.MaybeApplied && timed:
		if !acct.ChangedAt.Before(att.AmbiguousSince.Add(-clockSkew)) {
			rec.Outcome, rec.Reason = jobs.Reactivated, jobs.ReasonConfirmedOnRetry
			rec.Message = fmt.Sprintf("an earlier attempt timed out or failed after reaching the provider; the account is active and changed at %s, after that attempt began at %s",
				acct.ChangedAt.UTC().Format(time.RFC3339), att.AmbiguousSince.UTC().Format(time.RFC3339))
			return rec
		}
		rec.Reason = jobs.ReasonAlreadyActive
		rec.Message = fmt.Sprintf("already active: the account last changed at %s, before the first attempt began: nothing to do",
			acct.ChangedAt.UTC().Format(time.RFC3339))
		return rec
	case acct.State == jobs.StateActive && !att.MaybeApplied,
		acct.State != jobs.StateActive && jobs.NotDeactivatedReason(acct.State) != jobs.ReasonStateUnknown:
		rec.Reason = jobs.NotDeactivatedReason(acct.State)
		rec.Message = jobs.ReasonAdvice(rec.Reason)
		return rec
	}
	why := whyUnconfirmed(att, acct, err)
	if att.MaybeApplied {
		rec.Outcome, rec.Reason = jobs.Reactivated, jobs.ReasonAssumedOnRetry
		rec.Message = "an earlier attempt timed out or failed after reaching the provider and this retry found the account not deactivated, so that attempt most likely reactivated it; " + why + ": check it"
		return rec
	}
	rec.Reason = jobs.ReasonStateUnknown
	rec.Message = "the provider says the account is not deactivated, but " + why + ": look it up"
	return rec
}

// whyUnconfirmed says, for a row the provider's write side called not deactivated, why the read
// of its account (acct, or the read's error err) does not confirm it: the read failed, or it
// shows the account active without a change time to compare with the ambiguous attempt's start,
// or deactivated, missing or in a state we do not know. A provider's reads may lag behind its
// write side (ZITADEL reads from projections), so a read that contradicts the write side most
// likely has not caught up.
func whyUnconfirmed(att jobs.Attempt, acct jobs.Account, err error) string {
	switch {
	case err != nil:
		return fmt.Sprintf("the account could not be read to confirm it (%v)", err)
	case acct.State == jobs.StateActive && acct.ChangedAt.IsZero():
		return "a read shows the account active but gives no change time to compare with when that attempt began"
	case acct.State == jobs.StateActive:
		return "a read shows the account active, but when the first ambiguous attempt began was not recorded, so its change time cannot be compared with it"
	case acct.State == jobs.StateDeactivated:
		return fmt.Sprintf("a read still shows the account deactivated (%s), most likely a read lagging behind the change", acct.Raw)
	case acct.State == jobs.StateNotFound:
		return "a read finds no such account, most likely a read lagging behind the provider's change"
	}
	return fmt.Sprintf("a read shows the account in a state we do not know (%q)", acct.Raw)
}

// errNoRead says why no read of the account was made.
var errNoRead = errors.New("the account was not read")

// read reads one account with a slot of the rate budget, or says why it could not.
func (h *reactivateHandler) read(ctx, wait context.Context, runID string, runRate float64, row jobs.Row) (jobs.Account, error) {
	reader, ok := h.caller.(jobs.Reader)
	if !ok {
		return jobs.Account{}, errNoRead
	}
	s := h.srv
	if err := h.pacer.wait(wait, 3*budgetWait, runID, runRate); err != nil {
		return jobs.Account{}, fmt.Errorf("%w: %v", errNoRead, err)
	}
	if err := s.halt(wait, h.provider, true); err != nil {
		return jobs.Account{}, fmt.Errorf("%w: %v", errNoRead, err)
	}
	start := s.clock.Now()
	acct, err := reader.ReadAccount(ctx, row)
	if m := s.cfg.Metrics; m != nil {
		class := "read"
		if err != nil {
			class = "read_error"
		}
		m.Calls.WithLabelValues(string(h.provider), class).Inc()
		m.CallDuration.WithLabelValues(string(h.provider)).Observe(s.clock.Now().Sub(start).Seconds())
	}
	if errors.Is(err, jobs.ErrFatal) {
		// The credentials worked for the reactivate call a moment ago; a fatal read says they do
		// not now (or lack a role): stop the provider like a fatal call would.
		s.pause(ctx, h.provider, runID, row.Line, jobs.Result{Class: jobs.ClassFatal, Message: err.Error()})
	}
	return acct, err
}

// finish records a row's outcome. A permanent failure ends the task with asynq.SkipRetry so it
// shows as archived in the asynq web UI with the outcome as last error.
func (h *reactivateHandler) finish(ctx context.Context, log *slog.Logger, runID string, line int, rec jobs.OutcomeRecord) error {
	s := h.srv
	recorded, finished, err := s.store.Record(context.WithoutCancel(ctx), runID, line, rec)
	if err != nil {
		return err
	}
	if recorded {
		s.countOutcome(h.provider, rec.Outcome)
		log.Debug("row done", "outcome", rec.Outcome, "reason", rec.Reason, "status", rec.HTTPStatus)
	}
	if finished {
		s.runFinished(ctx, runID)
	}
	if !rec.Outcome.Permanent() || !recorded {
		return nil
	}
	msg := rec.Message
	if rec.Reason != "" {
		msg = rec.Reason + ": " + msg
	}
	return fmt.Errorf("%s: %s: %w", rec.Outcome, msg, asynq.SkipRetry)
}

// retryDelay is asynq's RetryDelayFunc: RetryErrors say their own delay, with backoff applied to
// failures.
func (s *Server) retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var re *RetryError
	if errors.As(err, &re) {
		if !re.Failure {
			// Budget waits, 429s, pauses: come back when told, with a little jitter so a fleet does
			// not stampede.
			return re.RetryAfter + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
		}
		return s.cfg.Backoff.Delay(n, re.RetryAfter, rand.Float64())
	}
	return s.cfg.Backoff.Delay(n, 0, rand.Float64())
}

// resolve finds the one account a row without an id names, with one read that takes a slot of
// the rate budget and obeys the stop rule as the state read does: it waits on wait, and a
// paused provider or a stopping server sends the task back unread. It returns the row with the
// account's id; done is true when the row ended here (no account: not_found; several: rejected,
// ambiguous), and err is the task's error (a stop, a pause, a read to retry). A read that meets
// a fatal answer pauses the provider like a fatal call. Before the provider's first read, a
// LookupChecker's check runs (checkLookups): lookups of a service user without the role would
// find no one, so its refusal pauses the provider and ends no row. The read happens before
// Begin: a task run twice may read twice, but calls at most once.
func (h *reactivateHandler) resolve(ctx, wait context.Context, log *slog.Logger, runID string, runRate float64, row jobs.Row) (jobs.Row, bool, error) {
	s := h.srv
	resolver, ok := h.caller.(jobs.Resolver)
	if !ok {
		err := h.finish(ctx, log, runID, row.Line, jobs.OutcomeRecord{Outcome: jobs.Rejected, Reason: "no_lookup",
			Message: fmt.Sprintf("the %s client cannot look accounts up by %s: give the id", h.provider, row.Lookup)})
		return row, true, err
	}
	if err := h.pacer.wait(wait, budgetWait, runID, runRate); err != nil {
		return row, false, notAnAttempt(err)
	}
	checked, err := h.checkLookups(ctx, wait, runID, row.Line)
	if re := (*RetryError)(nil); errors.As(err, &re) {
		return row, false, err
	}
	var accts []jobs.Account
	if err == nil {
		// The stop rule's check comes after the lookup check, which may have waited for another
		// task's probe: it is the last look at the pause and the stop before the read leaves.
		if err := s.halt(wait, h.provider, true); err != nil {
			return row, false, err
		}
		start := time.Now()
		accts, err = resolver.Resolve(ctx, row)
		if m := s.cfg.Metrics; m != nil {
			class := "lookup"
			if err != nil {
				class = "lookup_error"
			}
			m.Calls.WithLabelValues(string(h.provider), class).Inc()
			m.CallDuration.WithLabelValues(string(h.provider)).Observe(time.Since(start).Seconds())
		}
		if err == nil && h.credentialsChanged(checked) {
			// The client took other credentials during the read (a token file rotated, read
			// again on a 401): its answer is theirs, unchecked. Read again after the check.
			return row, false, &RetryError{Reason: "the credentials changed during the look-up: it is made again after they are checked"}
		}
	}
	named := fmt.Sprintf("%s %s", row.Lookup, row.LookupValue)
	if row.OrgID != "" {
		named += " in organisation " + row.OrgID
	}
	switch {
	case errors.Is(err, jobs.ErrFatal):
		s.pause(ctx, h.provider, runID, row.Line, fatalResult(err))
		return row, false, s.pausedError(h.provider, err.Error())
	case err != nil && ctx.Err() != nil:
		return row, false, &RetryError{Reason: "interrupted", RetryAfter: time.Second}
	case err != nil:
		if retried, _ := asynq.GetRetryCount(ctx); retried+1 >= s.cfg.MaxAttempts {
			return row, true, h.finish(ctx, log, runID, row.Line, jobs.OutcomeRecord{Outcome: jobs.Failed, Reason: "lookup_failed",
				Message: fmt.Sprintf("%d failed look-ups of %s; last: %s", retried+1, named, err)})
		}
		log.Debug("look-up failed, will retry", "err", err)
		return row, false, &RetryError{Reason: err.Error(), Failure: true}
	case len(accts) == 0:
		return row, true, h.finish(ctx, log, runID, row.Line, jobs.OutcomeRecord{Outcome: jobs.NotFound, Reason: jobs.ReasonNoAccountWithEmail,
			Message: fmt.Sprintf("no account with %s that the service user may read: check the %s", named, row.Lookup)})
	case len(accts) > 1:
		ids := make([]string, len(accts))
		for i, a := range accts {
			ids[i] = a.ID
		}
		return row, true, h.finish(ctx, log, runID, row.Line, jobs.OutcomeRecord{Outcome: jobs.Rejected, Reason: jobs.ReasonAmbiguous,
			RequestID: accts[0].RequestID,
			Message:   fmt.Sprintf("%d accounts have %s: %s; give the id of the one to reactivate", len(accts), named, strings.Join(ids, ", "))})
	}
	return row.Resolved(accts[0]), false, nil
}

// checkLookups makes the caller's LookupChecker check before the provider's first lookup read of
// this process, for the lookup of runID's line, and returns the credentials it holds for
// (CredentialsID). A pass holds while the checker's CredentialsID stays the one it passed with:
// then it returns nil at once; credentials changed since are checked anew. Concurrent lookups
// wait for one check. A refusal pauses the provider as a fatal answer does and is not kept, so
// the first lookup after a resume checks again; it and a pause found by a task that waited
// behind it return the task's error (a *RetryError). Any other error is that of a lookup read
// that failed.
func (h *reactivateHandler) checkLookups(ctx, wait context.Context, runID string, line int) (string, error) {
	checker, ok := h.caller.(LookupChecker)
	if !ok {
		return "", nil
	}
	s, g := h.srv, &h.lookups
	g.mu.Lock()
	defer g.mu.Unlock()
	// Taken before the check: credentials that change during it make the next lookup check again.
	creds := checker.CredentialsID()
	if g.passed && g.creds == creds {
		return creds, nil
	}
	g.passed = false
	if err := s.halt(wait, h.provider, true); err != nil {
		return creds, err
	}
	err := checker.CheckLookups(ctx)
	if errors.Is(err, jobs.ErrFatal) {
		s.pause(ctx, h.provider, runID, line, fatalResult(err))
		return creds, s.pausedError(h.provider, err.Error())
	}
	g.passed, g.creds = err == nil, creds
	return creds, err
}

// credentialsChanged reports whether the caller's LookupChecker sends other credentials than
// checked, those its check passed with.
func (h *reactivateHandler) credentialsChanged(checked string) bool {
	checker, ok := h.caller.(LookupChecker)
	return ok && checker.CredentialsID() != checked
}

// fatalResult is the pause's result for err, an error wrapping jobs.ErrFatal: its Grant names
// the role to grant when err is a *jobs.RoleError.
func fatalResult(err error) jobs.Result {
	res := jobs.Result{Class: jobs.ClassFatal, Message: err.Error()}
	if re := (*jobs.RoleError)(nil); errors.As(err, &re) {
		res.Grant = re.Grant
	}
	return res
}

// withResolution records in rec the account the lookup of row found, so the report shows its id
// (jobs.OutcomeRecord.ResolvedID). It changes nothing for a row that came with its id.
func withResolution(row jobs.Row, rec jobs.OutcomeRecord) jobs.OutcomeRecord {
	if row.Lookup == "" {
		return rec
	}
	rec.ResolvedID = row.MemberID + row.UserID
	rec.ResolvedOrg = row.OrgID
	return rec
}

// Backoff says how long to wait between attempts of a row.
type Backoff struct {
	// Base is the first attempt's ceiling; 0 means 2s.
	Base time.Duration
	// Cap is the largest ceiling; 0 means 10 minutes.
	Cap time.Duration
}

// Delay returns the wait before retry n (n = 1 after the first failed attempt): a uniform random
// share rnd in [0,1) of min(Cap, Base*2^(n-1)) ("full jitter"). A provider's Retry-After wins when
// it is longer; it is never shortened.
func (b Backoff) Delay(n int, retryAfter time.Duration, rnd float64) time.Duration {
	base, ceil := b.Base, b.Cap
	if base <= 0 {
		base = 2 * time.Second
	}
	if ceil <= 0 {
		ceil = 10 * time.Minute
	}
	if n < 1 {
		n = 1
	}
	window := float64(ceil)
	if n < 62 {
		window = math.Min(float64(ceil), float64(base)*math.Pow(2, float64(n-1)))
	}
	d := time.Duration(rnd * window)
	if d < 100*time.Millisecond {
		d = 100 * time.Millisecond
	}
	if retryAfter > d {
		return retryAfter
	}
	return d
}

// RetryError asks asynq to run the task again after RetryAfter. Failure says whether it counts
// as a failed attempt: transient provider answers do; waits for the rate budget, 429 cool-downs
// and a paused provider do not.
type RetryError struct {
	Reason     string
	RetryAfter time.Duration
	Failure    bool
}

func (e *RetryError) Error() string { return e.Reason }

// notAnAttempt sends a task back to the queue without using one of its attempts: a Redis error,
// a stop, a wait that ended. It keeps a *RetryError as it is.
func notAnAttempt(err error) error {
	var re *RetryError
	if errors.As(err, &re) {
		return err
	}
	return &RetryError{Reason: err.Error(), RetryAfter: time.Second}
}

// isFailure is asynq's IsFailure: only RetryErrors marked Failure, and unknown errors, count.
func isFailure(err error) bool {
	var re *RetryError
	if errors.As(err, &re) {
		return re.Failure
	}
	return true
}
