// This file holds the run listings: a page at a time of the index of runs by creation time, and
// the index of runs not yet finished, so no reader has to load every run ever made.

package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Indexes of runs, beside runsKey (reactivator:runs, run id -> created unix ms):
//
//	reactivator:runs:open        zset  run id -> created (unix ms): runs not seen finished yet
//	reactivator:runs:open:built  string set once every run older than the open index is in it
//
// A run enters both indexes when it is created. It leaves the open one when a reader of that
// index finds it finished (OpenRuns), and both when it is pruned.
const (
	openRunsKey      = keyPrefix + "runs:open"
	openRunsBuiltKey = keyPrefix + "runs:open:built"
)

// runIndexKeys are the indexes a run's id is a member of: Prune removes it from each.
var runIndexKeys = []string{runsKey, openRunsKey, windowKey(Stytch), windowKey(Zitadel)}

// DefaultPageSize is the number of runs a page holds when ListOptions.Limit is 0.
const DefaultPageSize = 50

// ListOptions select a page of runs, newest first.
type ListOptions struct {
	// Limit is the most runs the page holds; 0 means DefaultPageSize.
	Limit int
	// After is the Next of the previous page; "" starts with the newest run.
	After string
}

// RunsPage is one page of runs, newest first.
type RunsPage struct {
	Runs []Run
	// Next is the cursor of the following page, "" when this page is the last. Runs created while
	// a listing pages on are newer than its cursor, so every run appears at most once in it, and
	// every run that existed when the listing began (and was not pruned meanwhile) exactly once.
	Next string
}

// indexRun adds a new run to the indexes; it is idempotent, so every CreateRun of the id calls it.
func (s *Store) indexRun(ctx context.Context, id string, createdMs int64) error {
	z := redis.Z{Score: float64(createdMs), Member: id}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAddNX(ctx, runsKey, z)
		p.ZAddNX(ctx, openRunsKey, z)
		return nil
	})
	return err
}

// ListRuns returns a page of runs, newest first.
func (s *Store) ListRuns(ctx context.Context, o ListOptions) (RunsPage, error) {
	limit := o.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	var ids []string
	var scores []int64
	if o.After == "" {
		zs, err := s.rdb.ZRevRangeByScoreWithScores(ctx, runsKey, &redis.ZRangeBy{Min: "-inf", Max: "+inf", Count: int64(limit)}).Result()
		if err != nil {
			return RunsPage{}, fmt.Errorf("list runs: %w", err)
		}
		ids, scores = zMembers(zs)
	} else {
		score, after, err := parseCursor(o.After)
		if err != nil {
			return RunsPage{}, err
		}
		// The runs created in the same millisecond as the cursor's come first (those after it in
		// ZREVRANGE's order: members by descending bytes), then the older ones.
		sc := strconv.FormatInt(score, 10)
		var ties *redis.StringSliceCmd
		var older *redis.ZSliceCmd
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			ties = p.ZRevRangeByScore(ctx, runsKey, &redis.ZRangeBy{Min: sc, Max: sc})
			older = p.ZRevRangeByScoreWithScores(ctx, runsKey, &redis.ZRangeBy{Min: "-inf", Max: "(" + sc, Count: int64(limit)})
			return nil
		})
		if err != nil {
			return RunsPage{}, fmt.Errorf("list runs: %w", err)
		}
		for _, id := range ties.Val() {
			if id < after && len(ids) < limit {
				ids, scores = append(ids, id), append(scores, score)
			}
		}
		oi, os := zMembers(older.Val())
		for i := 0; i < len(oi) && len(ids) < limit; i++ {
			ids, scores = append(ids, oi[i]), append(scores, os[i])
		}
	}
	runs, err := s.runsOf(ctx, ids)
	if err != nil {
		return RunsPage{}, fmt.Errorf("list runs: %w", err)
	}
	page := RunsPage{Runs: make([]Run, 0, len(runs))}
	for _, r := range runs {
		if r != nil {
			page.Runs = append(page.Runs, *r)
		}
	}
	if len(ids) == limit {
		page.Next = strconv.FormatInt(scores[len(ids)-1], 10) + ":" + ids[len(ids)-1]
	}
	return page, nil
}

// ErrBadCursor is returned for a ListOptions.After that no RunsPage gave.
var ErrBadCursor = errors.New("bad page cursor")

func parseCursor(c string) (int64, string, error) {
	sc, id, ok := strings.Cut(c, ":")
	n, err := strconv.ParseInt(sc, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", fmt.Errorf("%w %q", ErrBadCursor, c)
	}
	return n, id, nil
}

func zMembers(zs []redis.Z) ([]string, []int64) {
	ids, scores := make([]string, len(zs)), make([]int64, len(zs))
	for i, z := range zs {
		ids[i], _ = z.Member.(string)
		scores[i] = int64(z.Score)
	}
	return ids, scores
}

// runsOf reads the runs of ids in one round trip; a run that is gone (pruned) is nil.
func (s *Store) runsOf(ctx context.Context, ids []string) ([]*Run, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, runKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Run, len(ids))
	for i, c := range cmds {
		if m := c.Val(); len(m) > 0 && m["provider"] != "" {
			r := parseRun(m)
			out[i] = &r
		}
	}
	return out, nil
}

// EachRun calls fn for every run, newest first, a page of pageSize (0: DefaultPageSize) at a time.
func (s *Store) EachRun(ctx context.Context, pageSize int, fn func(Run) error) error {
	o := ListOptions{Limit: pageSize}
	for {
		page, err := s.ListRuns(ctx, o)
		if err != nil {
			return err
		}
		for _, r := range page.Runs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		o.After = page.Next
	}
}

// OpenRuns returns the runs that are not finished, newest first. Runs it finds finished leave
// the index of open runs, so it costs what the runs in progress cost, however many runs the
// store keeps. The first call on a store made before that index existed fills it.
func (s *Store) OpenRuns(ctx context.Context) ([]Run, error) {
	if err := s.buildOpenIndex(ctx); err != nil {
		return nil, fmt.Errorf("list open runs: %w", err)
	}
	ids, err := s.rdb.ZRevRange(ctx, openRunsKey, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list open runs: %w", err)
	}
	var open []Run
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		runs, err := s.runsOf(ctx, part)
		if err != nil {
			return nil, fmt.Errorf("list open runs: %w", err)
		}
		var done []any
		for i, r := range runs {
			if r == nil || r.State == RunFinished {
				done = append(done, part[i])
				continue
			}
			open = append(open, *r)
		}
		if len(done) > 0 {
			if err := s.rdb.ZRem(ctx, openRunsKey, done...).Err(); err != nil {
				return nil, fmt.Errorf("list open runs: %w", err)
			}
		}
	}
	return open, nil
}

// buildOpenIndex puts every unfinished run into the open index once, for a store whose runs
// were created before that index existed.
func (s *Store) buildOpenIndex(ctx context.Context) error {
	n, err := s.rdb.Exists(ctx, openRunsBuiltKey).Result()
	if err != nil || n == 1 {
		return err
	}
	err = s.EachRun(ctx, 500, func(r Run) error {
		if r.State == RunFinished {
			return nil
		}
		return s.rdb.ZAddNX(ctx, openRunsKey, redis.Z{Score: float64(r.CreatedAt.UnixMilli()), Member: r.ID}).Err()
	})
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, openRunsBuiltKey, 1, 0).Err()
}
