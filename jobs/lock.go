// This file holds the leader locks in Redis that keep a single instance of a singleton role
// (the scheduler) active while standbys wait to take over.

package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// lockKey is the key of the named lock: reactivator:lock:<name> holds the holder's token.
func lockKey(name string) string { return keyPrefix + "lock:" + name }

// ErrLockLost is returned by RenewLock when the lock is no longer held with that token: it
// expired and another instance took it, or it was released.
var ErrLockLost = errors.New("lock lost")

// AcquireLock takes the named lock for token if nobody holds it, for ttl. It returns false
// (and no error) when another token holds it, and true when token already held it (the ttl is
// then extended), so a holder that retries after a lost reply is not locked out by itself.
// token must be unique per instance (a random string): it is what RenewLock and ReleaseLock check.
func (s *Store) AcquireLock(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	if err := checkLock(name, token, ttl); err != nil {
		return false, err
	}
	ok, err := acquireScript.Run(ctx, s.rdb, []string{lockKey(name)}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	return ok == 1, nil
}

var acquireScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// RenewLock extends the named lock held by token to ttl from now. It returns ErrLockLost when
// token no longer holds it: the caller must stop acting as the holder at once.
func (s *Store) RenewLock(ctx context.Context, name, token string, ttl time.Duration) error {
	if err := checkLock(name, token, ttl); err != nil {
		return err
	}
	ok, err := renewScript.Run(ctx, s.rdb, []string{lockKey(name)}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("renew lock %s: %w", name, err)
	}
	if ok != 1 {
		return fmt.Errorf("renew lock %s: %w", name, ErrLockLost)
	}
	return nil
}

var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// ReleaseLock frees the named lock if token holds it, so a standby takes over at once instead of
// waiting for the lock to expire. Releasing a lock token does not hold is not an error.
func (s *Store) ReleaseLock(ctx context.Context, name, token string) error {
	if err := checkLock(name, token, time.Second); err != nil {
		return err
	}
	if err := releaseScript.Run(ctx, s.rdb, []string{lockKey(name)}, token).Err(); err != nil {
		return fmt.Errorf("release lock %s: %w", name, err)
	}
	return nil
}

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// LockHolder returns the token holding the named lock, "" when it is free.
func (s *Store) LockHolder(ctx context.Context, name string) (string, error) {
	v, err := s.rdb.Get(ctx, lockKey(name)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read lock %s: %w", name, err)
	}
	return v, nil
}

func checkLock(name, token string, ttl time.Duration) error {
	switch {
	case name == "" || strings.ContainsAny(name, " \t\r\n"):
		return fmt.Errorf("lock name %q: must be non-empty without whitespace", name)
	case token == "":
		return fmt.Errorf("lock %s: token is empty", name)
	case ttl < time.Millisecond:
		return fmt.Errorf("lock %s: ttl %s: want 1ms or more", name, ttl)
	}
	return nil
}
