// This file reads the accounts of the rows a plan predicts from the provider: in batches of up
// to 1,000 ids, paced, each batch retried a few times when the answer is transient, and the
// accounts a batch did not list read one by one, which tells a missing account from one the
// service user may not see.

package plan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"reactivator/internal/providers"
	"reactivator/jobs"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

// attempts is how often a read is tried when its answers are transient (429, 5xx, no answer).
const attempts = 4

// retry calls read until it succeeds, fails for good (a fatal answer, a stop), or has been
// tried attempts times, pacing every try with lim and backing off 1s, 2s, 4s between them.
func retry[T any](ctx context.Context, lim *rate.Limiter, calls *int, read func() (T, error)) (T, error) {
	var zero T
	for try := 0; ; try++ {
		if err := lim.Wait(ctx); err != nil {
			return zero, err
		}
		*calls++
		v, err := read()
		if err == nil || errors.Is(err, jobs.ErrFatal) || errors.Is(err, zitadel.ErrNoListUsers) || ctx.Err() != nil || try+1 >= attempts {
			return v, err
		}
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-time.After(time.Second << try):
		}
	}
}

func (p *planner) batchSize(max int) int {
	if p.cfg.BatchSize > 0 && p.cfg.BatchSize < max {
		return p.cfg.BatchSize
	}
	return max
}

func (p *planner) progress(format string, args ...any) {
	if p.cfg.Progress != nil {
		fmt.Fprintf(p.cfg.Progress, format+"\n", args...)
	}
}

// readOne reads the one account of r that a batch did not list, into f: the account, or why it
// could not be read. It returns an error only when the plan must end (a fatal answer, a stop).
func (p *planner) readOne(ctx context.Context, lim *rate.Limiter, c jobs.Reader, r jobs.Row, f *Facts) error {
	a, err := retry(ctx, lim, &p.res.Calls, func() (jobs.Account, error) { return c.ReadAccount(ctx, r) })
	switch {
	case errors.Is(err, jobs.ErrFatal):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		f.Unreadable = err.Error()
	default:
		f.Account = &a
	}
	return nil
}

// zitadel reads and predicts the rows of todo.
func (p *planner) zitadel(ctx context.Context, todo []int) error {
	c := p.cfg.Zitadel
	if c == nil {
		return providers.NotConfigured(jobs.Zitadel)
	}
	if len(todo) == 0 {
		return nil
	}
	lim := p.limiter()
	var lookups int // the permission look-up's calls are not reads of accounts: not counted
	perms, err := retry(ctx, lim, &lookups, func() (zitadel.Permissions, error) { return c.Permissions(ctx) })
	if err != nil {
		return err
	}
	if err := perms.Refusal("a run would reactivate no one"); err != nil {
		return err
	}
	rules := Rules{ZitadelAPI: p.cfg.ZitadelAPI, ActingOrg: p.cfg.DefaultOrgID, Writes: Writes{Instance: perms.Instance, Orgs: perms.Orgs}}
	if own, ok := c.(interface {
		OwnOrg(context.Context) (string, error)
	}); ok && rules.ZitadelAPI == zitadelAPIv1 && rules.ActingOrg == "" {
		// v1 acts in the service user's own organisation for rows without org_id.
		if rules.ActingOrg, err = retry(ctx, lim, &lookups, func() (string, error) { return own.OwnOrg(ctx) }); err != nil {
			return err
		}
	}
	found := make(map[string]*jobs.Account, len(todo))
	size := p.batchSize(zitadel.MaxReadUsers)
	oneByOne := false
	for start := 0; start < len(todo) && !oneByOne; start += size {
		batch := todo[start:min(start+size, len(todo))]
		ids := make([]string, 0, len(batch))
		seen := make(map[string]bool, len(batch))
		for _, i := range batch {
			// Rows of one user with different org_ids are different rows, but one read.
			if id := p.rows[i].row.UserID; !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		accts, err := retry(ctx, lim, &p.res.Calls, func() ([]jobs.Account, error) { return c.ReadUsers(ctx, ids) })
		if errors.Is(err, zitadel.ErrNoListUsers) {
			oneByOne = true
			break
		}
		if err != nil {
			return err
		}
		for i := range accts {
			found[accts[i].ID] = &accts[i]
		}
		p.progress("zitadel: %d of %d rows read (%d calls)", start+len(batch), len(todo), p.res.Calls)
	}
	missing := 0
	for _, i := range todo {
		r := p.rows[i].row
		f := Facts{Account: found[r.UserID]}
		if f.Account == nil {
			// Not listed: missing, or not readable by the service user; one read tells.
			missing++
			if err := p.readOne(ctx, lim, c, r, &f); err != nil {
				return err
			}
		}
		p.res.Rows[i].Prediction = Predict(r, f, rules)
	}
	if missing > 0 {
		p.progress("zitadel: %d rows not listed, read one by one (%d calls in all)", missing, p.res.Calls)
	}
	return nil
}

// stytch reads and predicts the rows of todo, organization by organization.
func (p *planner) stytch(ctx context.Context, todo []int) error {
	c := p.cfg.Stytch
	if c == nil {
		return providers.NotConfigured(jobs.Stytch)
	}
	lim := p.limiter()
	var refs []string
	byRef := map[string][]int{}
	for _, i := range todo {
		ref := p.rows[i].row.OrgID
		if _, ok := byRef[ref]; !ok {
			refs = append(refs, ref)
		}
		byRef[ref] = append(byRef[ref], i)
	}
	size := p.batchSize(stytch.MaxSearchMembers)
	read := 0
	for _, ref := range refs {
		rows := byRef[ref]
		type org struct {
			id    string
			found bool
		}
		o, err := retry(ctx, lim, &p.res.Calls, func() (org, error) {
			id, found, err := c.Organization(ctx, ref)
			return org{id, found}, err
		})
		if err != nil {
			return err
		}
		found := map[string]*jobs.Account{}
		for start := 0; o.found && start < len(rows); start += size {
			batch := rows[start:min(start+size, len(rows))]
			ids := make([]string, 0, len(batch))
			for _, i := range batch {
				ids = append(ids, p.rows[i].row.MemberID)
			}
			accts, err := retry(ctx, lim, &p.res.Calls, func() ([]jobs.Account, error) { return c.SearchMembers(ctx, o.id, ids) })
			if err != nil {
				return err
			}
			for i := range accts {
				found[accts[i].ID] = &accts[i]
			}
		}
		for _, i := range rows {
			r := p.rows[i].row
			f := Facts{OrgMissing: !o.found, OrgID: o.id, Account: found[r.MemberID]}
			if o.found && f.Account == nil {
				// Not in this organization: in another one, or nowhere; one read tells.
				if err := p.readOne(ctx, lim, c, r, &f); err != nil {
					return err
				}
			}
			p.res.Rows[i].Prediction = Predict(r, f, Rules{})
		}
		read += len(rows)
		p.progress("stytch: %d of %d rows read (%d calls)", read, len(todo), p.res.Calls)
	}
	return nil
}
