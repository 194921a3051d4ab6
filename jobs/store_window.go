// This file holds which runs each provider's window serves (the runs whose rows its workers still
// claim, oldest first, and a canary's hold) and the asynq backlog the window tops up against. The
// rows themselves, their claims and their queued tasks are in store_rows.go.

package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

func windowKey(p Provider) string { return keyPrefix + "window:" + string(p) }

// OpenWindow lists a run among those whose rows the workers of its provider claim, oldest run
// first. Ingest calls it before it adds the rows, so the workers start on a big file while it is
// still being read. It is idempotent.
func (s *Store) OpenWindow(ctx context.Context, p Provider, runID string, created time.Time) error {
	if err := s.rdb.ZAddNX(ctx, windowKey(p), redis.Z{Score: float64(created.UnixMilli()), Member: runID}).Err(); err != nil {
		return fmt.Errorf("open the window of run %s: %w", runID, err)
	}
	return nil
}

// WindowRuns returns up to n runs of a provider with rows still to claim, oldest first.
func (s *Store) WindowRuns(ctx context.Context, p Provider, n int) ([]string, error) {
	ids, err := s.rdb.ZRange(ctx, windowKey(p), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list the %s window's runs: %w", p, err)
	}
	return ids, nil
}

// CloseWindow drops a run from its provider's window: every row of it was claimed and queued.
func (s *Store) CloseWindow(ctx context.Context, p Provider, runID string) error {
	if err := s.rdb.ZRem(ctx, windowKey(p), runID).Err(); err != nil {
		return fmt.Errorf("close the window of run %s: %w", runID, err)
	}
	return nil
}

// HoldWindow lets the window claim a run's rows up to line stop only (a canary: run --limit);
// stop -1 lifts the hold.
func (s *Store) HoldWindow(ctx context.Context, runID string, stop int) error {
	var err error
	if stop < 0 {
		err = s.rdb.HDel(ctx, runKey(runID), "wstop").Err()
	} else {
		err = s.rdb.HSet(ctx, runKey(runID), "wstop", stop).Err()
	}
	if err != nil {
		return fmt.Errorf("hold the window of run %s: %w", runID, err)
	}
	return nil
}

// QueueBacklog returns how many tasks of an asynq queue are not done: pending, active, scheduled
// and waiting to be retried. It reads asynq's own keys (asynq:{<queue>}:pending, :active,
// :scheduled, :retry, as asynq v0.26 lays them out; TestQueueBacklogFollowsAsynq guards that) in
// one round trip, where asynq's Inspector would also sample the queue's memory use.
func (s *Store) QueueBacklog(ctx context.Context, queue string) (int, error) {
	base := "asynq:{" + queue + "}:"
	var cmds [4]*redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmds[0] = p.LLen(ctx, base+"pending")
		cmds[1] = p.LLen(ctx, base+"active")
		cmds[2] = p.ZCard(ctx, base+"scheduled")
		cmds[3] = p.ZCard(ctx, base+"retry")
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the backlog of queue %s: %w", queue, err)
	}
	n := 0
	for _, c := range cmds {
		n += int(c.Val())
	}
	return n, nil
}
