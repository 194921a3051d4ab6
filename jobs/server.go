// This file checks that a Redis server is one reactivator can run on.

package jobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// MinRedisVersion is the oldest Redis reactivator runs on: asynq's archive needs 6.2.
const MinRedisVersion = "6.2"

// OldRedisError is a Redis server older than MinRedisVersion.
type OldRedisError struct{ Version string }

func (e *OldRedisError) Error() string {
	return fmt.Sprintf("redis %s is too old: reactivator needs %s or newer", e.Version, MinRedisVersion)
}

// CheckServer asks the server its version (INFO server) and returns an *OldRedisError for one
// older than MinRedisVersion. A server that does not say its version passes.
func (s *Store) CheckServer(ctx context.Context) error {
	info, err := s.rdb.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("read the redis version: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok && versionLess(v, MinRedisVersion) {
			return &OldRedisError{Version: v}
		}
	}
	return nil
}

// versionLess compares dotted versions numerically.
func versionLess(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := range b {
		x, y := 0, 0
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		y, _ = strconv.Atoi(b[i])
		if x != y {
			return x < y
		}
	}
	return false
}
