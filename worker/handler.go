// This file holds the reactivate handler: it turns one task into at most one provider call and
// exactly one recorded outcome.

package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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

// Deactivator is a provider client that can also undo a reactivation (design: "undo RUN"):
// worker/stytch.Client (delete member) and worker/zitadel.Client are Deactivators.
type Deactivator interface {
	// Deactivate makes one deactivate call and classifies the answer (jobs.ClassDeactivated,
	// jobs.ClassNotActive, or as Reactivate's); it never returns a secret.
	Deactivate(ctx context.Context, r jobs.Row) jobs.Result
}

// budgetWait is the longest a task holds a worker slot waiting for the rate budget or a
// cool-down before it goes back to the queue.
const budgetWait = 20 * time.Second

type reactivateHandler struct {
	provider jobs.Provider
	caller   Caller
	srv      *Server
	pacer    *pacer
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
				Message: fmt.Sprintf("not reactivated within --max-row-age %s of being queued", s.cfg.MaxRowAge)})
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

// clockSkew is how far the provider's clock may run behind ours when a read's change time is
// compared with the start of an ambiguous attempt.
const clockSkew = 2 * time.Second

// decideNotDeactivated reads the account after a "not deactivated" answer and lets its state
// decide the reason (design: "not_deactivated says the account's state"), and, after an attempt
// that may have reached the provider, whether that attempt is what reactivated it. The read
// takes a slot of the same rate budget and obeys the stop rule; a read that cannot be made or
// gives nothing usable says so in the reason.
func (h *reactivateHandler) decideNotDeactivated(ctx, wait context.Context, log *slog.Logger, runID string, runRate float64, row jobs.Row, att jobs.Attempt, rec jobs.OutcomeRecord) jobs.OutcomeRecord {
	acct, err := h.read(ctx, wait, runID, runRate, row)
	if err != nil {
		log.Debug("account read failed", "err", err)
	}
	read := err == nil && acct.State != jobs.StateNotFound && acct.State != jobs.StateUnknown
	if att.MaybeApplied {
		switch {
		case read && acct.State == jobs.StateActive && !att.AmbiguousSince.IsZero() && !acct.ChangedAt.IsZero():
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
		case read && acct.State != jobs.StateActive && acct.State != jobs.StateDeactivated:
			rec.Reason = jobs.NotDeactivatedReason(acct.State)
			rec.Message = jobs.ReasonAdvice(rec.Reason)
			return rec
		}
		rec.Outcome, rec.Reason = jobs.Reactivated, jobs.ReasonAssumedOnRetry
		rec.Message = "an earlier attempt timed out or failed after reaching the provider and this retry found the account not deactivated, but the account could not be read to confirm it: check it"
		return rec
	}
	if !read || acct.State == jobs.StateDeactivated {
		rec.Reason = jobs.ReasonStateUnknown
	} else {
		rec.Reason = jobs.NotDeactivatedReason(acct.State)
	}
	rec.Message = jobs.ReasonAdvice(rec.Reason)
	return rec
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
