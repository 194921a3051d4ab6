// This file guards against runs an earlier reactivator left in its older store layout.

package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// legacyOutKey is the one hash of outcomes (field: line) of the store layout before the
// outcome buckets (outBucketKey). The current code never writes it, so its presence marks a run
// an earlier version started.
func legacyOutKey(id string) string { return runPrefix(id) + "out" }

// OldLayoutError names the unfinished runs whose outcomes are kept in an earlier layout: the
// current worker would not see which of their rows are finished and would call them again.
type OldLayoutError struct{ Runs []string }

func (e *OldLayoutError) Error() string {
	return fmt.Sprintf("runs %s were started by an earlier reactivator whose run store keeps outcomes in another layout: "+
		"this worker would call their finished rows again, so it does not start; finish them with the version that started them "+
		"(or `reactivator cancel RUN`, which calls nothing), then start this version", strings.Join(e.Runs, ", "))
}

// CheckLayout returns an *OldLayoutError when an unfinished run keeps its outcomes in an earlier
// layout. It costs one EXISTS per unfinished run.
func (s *Store) CheckLayout(ctx context.Context) error {
	open, err := s.OpenRuns(ctx)
	if err != nil || len(open) == 0 {
		return err
	}
	cmds := make([]*redis.IntCmd, len(open))
	// One EXISTS a run: each run's keys live in their own hash slot, so no multi-key command.
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range open {
			cmds[i] = p.Exists(ctx, legacyOutKey(r.ID))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the run store's layout: %w", err)
	}
	var old []string
	for i, c := range cmds {
		if c.Val() > 0 {
			old = append(old, open[i].ID)
		}
	}
	if len(old) > 0 {
		return &OldLayoutError{Runs: old}
	}
	return nil
}
