// This file is responsible for finding runs by a prefix of their id: the commands that take a
// run accept any unique prefix, and shell completion offers the ids.

package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// AmbiguousRunError is a run id prefix that more than one run's id starts with.
type AmbiguousRunError struct {
	Prefix string
	// Candidates are some of the runs it could name (at most maxCandidates), sorted.
	Candidates []string
	// More is true when there are more candidates than listed.
	More bool
}

// Error lists the candidates and says what to do.
func (e *AmbiguousRunError) Error() string {
	more := ""
	if e.More {
		more = ", …"
	}
	return fmt.Sprintf("run id %q is ambiguous: it begins %s%s; give more of the id", e.Prefix, strings.Join(e.Candidates, ", "), more)
}

// maxCandidates is how many runs an ambiguous prefix lists.
const maxCandidates = 10

// RunIDs returns the ids of runs that start with prefix, sorted, at most limit of them (0: all);
// more is true when there were more.
func (s *Store) RunIDs(ctx context.Context, prefix string, limit int) (ids []string, more bool, err error) {
	match := globEscape(prefix) + "*"
	var cursor uint64
	for {
		kv, next, err := s.rdb.ZScan(ctx, runsKey, cursor, match, 1000).Result()
		if err != nil {
			return nil, false, fmt.Errorf("list run ids: %w", err)
		}
		for i := 0; i < len(kv); i += 2 {
			ids = append(ids, kv[i])
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	slices.Sort(ids)
	if limit > 0 && len(ids) > limit {
		return ids[:limit], true, nil
	}
	return ids, false, nil
}

// ResolveRun returns the id of the run that id names: the run of exactly that id, or else the
// one run whose id starts with it. It returns an error wrapping ErrRunNotFound when none does,
// and an *AmbiguousRunError when several do.
func (s *Store) ResolveRun(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%w: an empty run id", ErrRunNotFound)
	}
	n, err := s.rdb.Exists(ctx, runKey(id)).Result()
	if err != nil {
		return "", fmt.Errorf("look up run %s: %w", id, err)
	}
	if n == 1 {
		return id, nil
	}
	ids, more, err := s.RunIDs(ctx, id, maxCandidates)
	switch {
	case err != nil:
		return "", err
	case len(ids) == 0:
		return "", fmt.Errorf("%w: %s", ErrRunNotFound, id)
	case len(ids) > 1:
		return "", &AmbiguousRunError{Prefix: id, Candidates: ids, More: more}
	}
	return ids[0], nil
}
