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
	log := s.log.With("provider", h.provider, "run", p.RunID, "line", row.Line)

	// A row that needs no call must not take a share of the rate budget: look first. Without a
	// limit Begin alone decides.
	need := true
	runRate := s.runRate(ctx, p.RunID)
	if rate, _ := h.pacer.rate(); rate > 0 || runRate > 0 {
		if need, err = s.store.NeedsCall(ctx, p.RunID, row.Line); err != nil {
			return err
		}
	}
	if need {
		if age := s.now().Sub(time.Unix(p.QueuedAt, 0)); p.QueuedAt > 0 && age > s.cfg.MaxRowAge {
			return h.finish(ctx, log, p.RunID, row.Line, jobs.OutcomeRecord{Outcome: jobs.Failed, Reason: "max_row_age",
				Message: fmt.Sprintf("not reactivated within --max-row-age %s of being queued", s.cfg.MaxRowAge)})
		}
		if s.isPaused(h.provider) {
			return &RetryError{Reason: fmt.Sprintf("%s queue is paused: %s", h.provider, s.pauseReason(h.provider)), RetryAfter: 30 * time.Second}
		}
		if err := h.pacer.wait(ctx, budgetWait, p.RunID, runRate); err != nil {
			return err
		}
	}
	att, err := s.store.Begin(ctx, p.RunID, row.Line)
	if err != nil {
		return err
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

	start := time.Now()
	res := h.caller.Reactivate(ctx, row)
	if m := s.cfg.Metrics; m != nil && res.Called {
		m.Calls.WithLabelValues(string(h.provider), string(res.Class)).Inc()
		m.CallDuration.WithLabelValues(string(h.provider)).Observe(time.Since(start).Seconds())
	}

	if out, final := res.Class.Outcome(); final {
		rec := jobs.OutcomeRecord{Outcome: out, HTTPStatus: res.HTTPStatus, RequestID: res.RequestID, Attempts: att.N, Message: res.Message}
		if res.ErrorType != "" {
			rec.Reason = res.ErrorType
		}
		if out == jobs.NotDeactivated && att.MaybeApplied {
			// The ambiguous-call rule: an earlier attempt may have reached the provider, so this
			// "not deactivated" most likely confirms that attempt's change.
			rec.Outcome, rec.Reason = jobs.Reactivated, jobs.ReasonConfirmedOnRetry
			rec.Message = "an earlier attempt timed out or failed after reaching the provider; this retry found the account already active"
		}
		return h.finish(ctx, log, p.RunID, row.Line, rec)
	}

	// Transient or fatal: the row stays open.
	if err := s.store.EndAttempt(context.WithoutCancel(ctx), p.RunID, row.Line, res.Ambiguous); err != nil {
		return err
	}
	if res.Class == jobs.ClassFatal {
		s.pause(ctx, h.provider, p.RunID, row.Line, res)
		return &RetryError{Reason: fmt.Sprintf("%s queue paused: %s", h.provider, res.Message), RetryAfter: 30 * time.Second}
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
		return h.finish(ctx, log, p.RunID, row.Line, jobs.OutcomeRecord{Outcome: jobs.Failed, Reason: "attempts_exhausted",
			HTTPStatus: res.HTTPStatus, RequestID: res.RequestID, Attempts: att.N, Message: msg})
	}
	log.Debug("transient answer, will retry", "status", res.HTTPStatus, "msg", res.Message, "attempt", att.N)
	return &RetryError{Reason: res.Message, RetryAfter: res.RetryAfter, Failure: true}
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
	if rec.Outcome == jobs.Reactivated || !recorded {
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
