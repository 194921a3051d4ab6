// This file resolves the rows that name their account by email, login name or user name, as
// the worker does before its call: one read each, paced with the provider's other reads.

package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"reactivator/jobs"
)

// lookups resolves the rows of todo that have no id, one read each with the client's Resolve
// (the read the worker makes): no account predicts not_found / no_account_with_email, several
// rejected / ambiguous, as a run records them; one gives the row its account's id, and the row
// stays in the returned todo to be read with the others. A fatal answer ends the plan.
func (p *planner) lookups(ctx context.Context, todo []int) ([]int, error) {
	var resolver jobs.Resolver
	switch {
	case p.res.Provider == jobs.Zitadel && p.cfg.Zitadel != nil:
		resolver, _ = p.cfg.Zitadel.(jobs.Resolver)
	case p.res.Provider == jobs.Stytch && p.cfg.Stytch != nil:
		resolver, _ = p.cfg.Stytch.(jobs.Resolver)
	}
	keep := todo[:0]
	for _, i := range todo {
		r := p.rows[i].row
		if !r.NeedsLookup() {
			keep = append(keep, i)
			continue
		}
		if resolver == nil {
			// No client that can look up: the provider's own check (not configured) says so.
			keep = append(keep, i)
			continue
		}
		accts, err := retry(ctx, p.limiter(), &p.res.Calls, func() ([]jobs.Account, error) { return resolver.Resolve(ctx, r) })
		named := fmt.Sprintf("%s %s", r.Lookup, r.LookupValue)
		if r.OrgID != "" {
			named += " in organisation " + r.OrgID
		}
		out := &p.res.Rows[i]
		switch {
		case errors.Is(err, jobs.ErrFatal) || ctx.Err() != nil:
			return nil, err
		case err != nil:
			out.Prediction = Prediction{Outcome: Unknown, Reason: ReasonNotReadable, State: stateNotReadable,
				Message: "the look-up of " + named + " failed: " + err.Error()}
		case len(accts) == 0:
			out.Prediction = Prediction{Outcome: string(jobs.NotFound), Reason: jobs.ReasonNoAccountWithEmail, State: string(jobs.StateNotFound),
				Message: fmt.Sprintf("no account with %s that the service user may read: check the %s", named, r.Lookup)}
		case len(accts) > 1:
			ids := make([]string, len(accts))
			for k, a := range accts {
				ids[k] = a.ID
			}
			out.Prediction = Prediction{Outcome: string(jobs.Rejected), Reason: jobs.ReasonAmbiguous,
				Message: fmt.Sprintf("%d accounts have %s: %s; give the id of the one to reactivate", len(accts), named, strings.Join(ids, ", "))}
		default:
			p.rows[i].row = r.Resolved(accts[0])
			p.fillID(i)
			keep = append(keep, i)
		}
	}
	return keep, nil
}

// fillID writes the id a look-up found into the row's empty id cells, as the report of a run
// shows it, so that a plan's rows can be fed back in by id.
func (p *planner) fillID(i int) {
	r, in := p.rows[i].row, p.res.Rows[i].Input
	if len(in) < 3 {
		return
	}
	if in[0] == "" {
		in[0] = r.OrgID
	}
	if r.Provider == jobs.Stytch && in[1] == "" {
		in[1] = r.MemberID
	}
	if r.Provider == jobs.Zitadel && in[2] == "" {
		in[2] = r.UserID
	}
}
