// This file completes run ids in the shell (cobra's completion command, for a command that takes
// RUN), from the runs in Redis.

package status

import (
	"context"
	"time"

	"reactivator/internal/redisconn"
)

// completionTimeout bounds the Redis look-up behind a completion: a shell waits for it.
const completionTimeout = 2 * time.Second

// CompleteRun returns the ids of the runs, in the Redis opts names, that start with prefix (at
// most 500): what a shell offers for a RUN argument. It returns nothing when Redis cannot be
// reached within completionTimeout.
func CompleteRun(ctx context.Context, opts redisconn.Options, prefix string) []string {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	rc, err := redisconn.Open(ctx, opts)
	if err != nil {
		return nil
	}
	defer rc.Close()
	ids, _, err := rc.Store.RunIDs(ctx, prefix, 500)
	if err != nil {
		return nil
	}
	return ids
}
