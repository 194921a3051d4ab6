// This file holds what paces the calls in the store: 429 cool-downs, the shared rate budgets of
// providers and runs, and the value --rate auto settles on.

package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetCooldown makes every worker of a provider hold its calls for d (a 429 answer). A longer
// cool-down already in place is kept.
func (s *Store) SetCooldown(ctx context.Context, p Provider, d time.Duration) error {
	key := keyPrefix + "cooldown:" + string(p)
	until := s.now().Add(d).UnixMilli()
	cur, err := s.rdb.Get(ctx, key).Int64()
	if err == nil && cur >= until {
		return nil
	}
	return s.rdb.Set(ctx, key, until, d).Err()
}

// Cooldown returns how long a provider's cool-down still lasts, 0 when none.
func (s *Store) Cooldown(ctx context.Context, p Provider) (time.Duration, error) {
	until, err := s.rdb.Get(ctx, keyPrefix+"cooldown:"+string(p)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if d := time.UnixMilli(until).Sub(s.now()); d > 0 {
		return d, nil
	}
	return 0, nil
}

// reserveScript reserves the next call slot of a budget, on Redis's clock.
// KEYS[1] -> the budget: reactivator:budget:<provider> or reactivator:{<run>}:budget
// ARGV[1] -> µs between slots, ARGV[2] -> µs of burst tolerance, ARGV[3] -> the longest wait (µs),
// ARGV[4] -> now (unix µs), or "" for Redis's TIME
// Returns {1, wait µs} when reserved, {0, wait µs} when the slot is further than the longest wait.
var reserveScript = redis.NewScript(`
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval, tolerance, maxwait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = last + interval
if slot < now - tolerance then slot = now - tolerance end
local wait = slot - now
if wait < 0 then wait = 0 end
if wait > maxwait then return {0, wait} end
redis.call('SET', KEYS[1], string.format('%d', slot), 'PX', math.floor((slot - now + tolerance) / 1000) + 60000)
return {1, wait}
`)

// Reserve takes a slot in the provider's global budget of perSecond calls per second, shared by
// every worker process: slots are spaced 1/perSecond apart on Redis's clock, with up to burst of
// them at once after an idle spell. It returns how long to wait before calling. When the slot is
// further away than maxWait it reserves nothing and returns ok false with the wait it would need.
//
// A reservation is one round trip per call whatever the contention: unlike an allow/deny limiter,
// waiters do not wake together to race for the next token.
func (s *Store) Reserve(ctx context.Context, p Provider, perSecond float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	return s.reserve(ctx, keyPrefix+"budget:"+string(p), perSecond, burst, maxWait)
}

// ReserveRun takes a slot in a run's own budget (Run.RateLimit), as Reserve does for a provider.
func (s *Store) ReserveRun(ctx context.Context, runID string, perSecond float64, maxWait time.Duration) (time.Duration, bool, error) {
	return s.reserve(ctx, keyPrefix+"{"+runID+"}:budget", perSecond, 1, maxWait)
}

func (s *Store) reserve(ctx context.Context, key string, perSecond float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	if perSecond <= 0 {
		return 0, true, nil
	}
	burst = max(burst, 1)
	interval := 1e6 / perSecond
	now := ""
	if s.budgetClock != nil {
		now = strconv.FormatInt(s.budgetClock.Now().UnixMicro(), 10)
	}
	v, err := reserveScript.Run(ctx, s.rdb, []string{key},
		int64(interval), int64(interval*float64(burst-1)), maxWait.Microseconds(), now).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("rate budget %s: %w", key, err)
	}
	return time.Duration(v[1]) * time.Microsecond, v[0] == 1, nil
}

// AutoRate returns the rate --rate auto last settled on for a provider; ok is false when none.
func (s *Store) AutoRate(ctx context.Context, p Provider) (float64, bool, error) {
	v, err := s.rdb.Get(ctx, autoRateKey(p)).Float64()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	return v, err == nil, err
}

// autoRateScript moves the rate --rate auto settles on, at most once per period each way.
// KEYS[1] -> reactivator:{autorate:<p>}, KEYS[2] -> …:up guard, KEYS[3] -> …:down guard
// ARGV[1] -> "up" | "down", ARGV[2] -> period (ms), ARGV[3] -> start, ARGV[4] -> min, ARGV[5] -> max,
// ARGV[6] -> the step: added when up, a factor when down
// Returns the rate now, as a string.
var autoRateScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or ARGV[3])
local lo, hi = tonumber(ARGV[4]), tonumber(ARGV[5])
if ARGV[1] == 'up' then
  if redis.call('SET', KEYS[2], '1', 'PX', ARGV[2], 'NX') then cur = cur + tonumber(ARGV[6]) end
else
  if redis.call('SET', KEYS[3], '1', 'PX', ARGV[2], 'NX') then cur = cur * tonumber(ARGV[6]) end
end
if cur < lo then cur = lo end
if cur > hi then cur = hi end
redis.call('SET', KEYS[1], string.format('%.2f', cur))
return tostring(cur)
`)

// AutoRateStep moves a provider's shared --rate auto value: up adds step at most once per
// period across the whole fleet; down (a 429) multiplies by factor at most once per period. The
// result stays within [min, max]; start is the value when none is recorded yet.
func (s *Store) AutoRateStep(ctx context.Context, p Provider, up bool, amount, start, min, max float64, period time.Duration) (float64, error) {
	op := "down"
	if up {
		op = "up"
	}
	base := autoRateKey(p)
	v, err := autoRateScript.Run(ctx, s.rdb, []string{base, base + ":up", base + ":down"},
		op, period.Milliseconds(), start, min, max, amount).Float64()
	if err != nil {
		return 0, fmt.Errorf("auto rate of %s: %w", p, err)
	}
	return v, nil
}
