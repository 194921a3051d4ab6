// This file holds the reactivate handler's lookup of a row without an id: one read finds the
// account its email, login name or user name names before the call (docs/design.md, "Input").

package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/jobs"
)

// resolve finds the one account a row without an id names, with one read that takes a slot of
// the rate budget and obeys the stop rule as the state read does: it waits on wait, and a
// paused provider or a stopping server sends the task back unread. It returns the row with the
// account's id; done is true when the row ended here (no account: not_found; several: rejected,
// ambiguous), and err is the task's error (a stop, a pause, a read to retry). A read that meets
// a fatal answer pauses the provider like a fatal call. The read happens before Begin: a task
// run twice may read twice, but calls at most once.
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
	if err := s.halt(wait, h.provider, true); err != nil {
		return row, false, err
	}
	start := time.Now()
	accts, err := resolver.Resolve(ctx, row)
	if m := s.cfg.Metrics; m != nil {
		class := "lookup"
		if err != nil {
			class = "lookup_error"
		}
		m.Calls.WithLabelValues(string(h.provider), class).Inc()
		m.CallDuration.WithLabelValues(string(h.provider)).Observe(time.Since(start).Seconds())
	}
	named := fmt.Sprintf("%s %s", row.Lookup, row.LookupValue)
	if row.OrgID != "" {
		named += " in organisation " + row.OrgID
	}
	switch {
	case errors.Is(err, jobs.ErrFatal):
		s.pause(ctx, h.provider, runID, row.Line, jobs.Result{Class: jobs.ClassFatal, Message: err.Error()})
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
