// This file is responsible for the run page's failure list: the filter by outcome, reason and
// text (an id or an email), and a cache that spares a poll the scan when no failure was added.

package dash

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"reactivator/jobs"
)

// failureFilter narrows the failure list. The zero filter lists every failure.
type failureFilter struct {
	// Outcome keeps the rows that ended with it; "" any.
	Outcome jobs.Outcome `json:"outcome,omitempty"`
	// Reason keeps the rows with this reason; "" any.
	Reason string `json:"reason,omitempty"`
	// Q keeps the rows with a cell (an id, an email, any input column) that contains it,
	// case-insensitively, or whose line it is.
	Q string `json:"q,omitempty"`
}

// maxQuery bounds the length of a filter's texts.
const maxQuery = 200

// parseFilter reads the filter from a page's query: outcome, reason, q. An unknown outcome is
// ignored, as a stale link's would be.
func parseFilter(q url.Values) failureFilter {
	cut := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) > maxQuery {
			s = s[:maxQuery]
		}
		return s
	}
	f := failureFilter{Reason: cut(q.Get("reason")), Q: cut(q.Get("q"))}
	if o := jobs.Outcome(q.Get("outcome")); o.Valid() {
		f.Outcome = o
	}
	return f
}

// Active reports whether the filter narrows the list.
func (f failureFilter) Active() bool { return f != failureFilter{} }

func (f failureFilter) match(row jobs.ReportRow) bool {
	if f.Outcome != "" && row.Outcome.Outcome != f.Outcome {
		return false
	}
	if f.Reason != "" && row.Outcome.Reason != f.Reason {
		return false
	}
	if f.Q == "" || strconv.Itoa(row.Line) == f.Q {
		return true
	}
	q := strings.ToLower(f.Q)
	for _, c := range row.Input {
		if strings.Contains(strings.ToLower(c), q) {
			return true
		}
	}
	return false
}

// failureList is the failures a page shows.
type failureList struct {
	Failures []failureView `json:"failures"`
	// More is true when more rows match than the page lists.
	More bool `json:"more"`
	// Reasons are the reasons of the failures seen, for the reason filter.
	Reasons []string `json:"reasons"`
	// Outcomes are the outcomes of the failures seen, for the outcome filter.
	Outcomes []jobs.Outcome `json:"outcome_choices"`
}

// failureCache keeps the latest failure list of each run and filter. A row's outcome never
// changes once recorded, so the list stands as long as the run's count of permanent outcomes
// does: a poll of a run whose failures did not grow costs no scan.
type failureCache struct {
	mu sync.Mutex
	m  map[string]cachedFailures
}

type cachedFailures struct {
	permanent int
	list      failureList
}

// maxCached bounds the cache; past it, the cache starts over.
const maxCached = 256

func permanentRows(r jobs.Run) int {
	n := 0
	for o, c := range r.Counts {
		if o.Permanent() {
			n += c
		}
	}
	return n
}

// errEnough stops EachRow once the page has its failures.
var errEnough = errors.New("enough failures")

// failures lists the first maxFailures failures of run that match f.
func (h *Handler) failures(ctx context.Context, run jobs.Run, f failureFilter) (failureList, error) {
	perm := permanentRows(run)
	key := run.ID + "\x00" + string(f.Outcome) + "\x00" + f.Reason + "\x00" + f.Q
	h.cache.mu.Lock()
	c, ok := h.cache.m[key]
	h.cache.mu.Unlock()
	if ok && c.permanent == perm {
		return c.list, nil
	}
	l := failureList{Failures: []failureView{}, Reasons: []string{}, Outcomes: []jobs.Outcome{}}
	if perm > 0 {
		reasons, outcomes := map[string]bool{}, map[jobs.Outcome]bool{}
		err := h.cfg.Store.EachRow(ctx, run.ID, func(row jobs.ReportRow) error {
			if row.Pending || !row.Outcome.Failure() {
				return nil
			}
			outcomes[row.Outcome.Outcome] = true
			if row.Outcome.Reason != "" {
				reasons[row.Outcome.Reason] = true
			}
			if !f.match(row) {
				return nil
			}
			if len(l.Failures) == maxFailures {
				l.More = true
				return errEnough
			}
			v := failureView{
				Line: row.Line, Outcome: row.Outcome.Outcome, Reason: row.Outcome.Reason,
				HTTPStatus: row.Outcome.HTTPStatus, Attempts: row.Outcome.Attempts, Message: row.Outcome.Message,
				Finished: when(row.Outcome.FinishedAt),
			}
			for i, name := range idColumns {
				if i < len(row.Input) && row.Input[i] != "" {
					v.IDs = append(v.IDs, idView{Name: name, Value: row.Input[i]})
				}
			}
			l.Failures = append(l.Failures, v)
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			return failureList{}, err
		}
		for r := range reasons {
			l.Reasons = append(l.Reasons, r)
		}
		slices.Sort(l.Reasons)
		for _, o := range jobs.Outcomes {
			if outcomes[o] {
				l.Outcomes = append(l.Outcomes, o)
			}
		}
	}
	h.cache.mu.Lock()
	if h.cache.m == nil || len(h.cache.m) >= maxCached {
		h.cache.m = map[string]cachedFailures{}
	}
	h.cache.m[key] = cachedFailures{permanent: perm, list: l}
	h.cache.mu.Unlock()
	return l, nil
}
