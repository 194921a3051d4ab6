// A pacer is responsible for one provider's call budget: the process's own pacing
// (golang.org/x/time/rate), the fleet's global budget in Redis, the shared 429 cool-down and
// the --rate auto search.

package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"reactivator/internal/clock"
	"reactivator/jobs"
)

// Limit is one provider's call budget.
type Limit struct {
	// PerSecond is the global limit in calls per second for the whole fleet; 0 means no limit.
	// With Auto it is the starting rate.
	PerSecond float64
	// Burst is how many calls may go at once above the steady rate; 0 means 1: calls go out evenly
	// spaced, so a provider that measures over short windows sees no spike.
	Burst int
	// Auto discovers the limit: grow additively while no 429 comes, halve on a 429.
	Auto bool
	// MaxRate caps Auto; 0 means 200.
	MaxRate float64
}

func (l Limit) burst(perSecond float64) int {
	if l.Burst > 0 {
		return l.Burst
	}
	return 1
}

func (l Limit) String() string {
	if l.Auto {
		return fmt.Sprintf("auto (start %g/s, max %g/s)", l.PerSecond, l.maxRate())
	}
	if l.PerSecond <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g/s burst %d", l.PerSecond, l.burst(l.PerSecond))
}

func (l Limit) maxRate() float64 {
	if l.MaxRate > 0 {
		return l.MaxRate
	}
	return 200
}

type pacer struct {
	provider jobs.Provider
	store    *jobs.Store
	limit    Limit
	local    *rate.Limiter
	metrics  *Metrics
	log      *slog.Logger
	clock    clock.Clock

	mu          sync.Mutex
	current     float64   // the rate in force (Auto moves it)
	cooldown    time.Time // local copy of the shared cool-down
	checkedCool time.Time
	saw429      bool
	calls       int
}

func newPacer(p jobs.Provider, s *jobs.Store, l Limit, m *Metrics, log *slog.Logger, clk clock.Clock) *pacer {
	pc := &pacer{provider: p, store: s, limit: l, metrics: m, log: log, clock: clock.Or(clk), current: l.PerSecond}
	if l.Auto && pc.current <= 0 {
		pc.current = 5
	}
	if pc.current > 0 {
		pc.local = rate.NewLimiter(rate.Limit(pc.current), l.burst(pc.current))
	}
	return pc
}

// rate returns the rate in force and its burst.
func (pc *pacer) rate() (float64, int) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.current, pc.limit.burst(pc.current)
}

// wait blocks until a call may go, or returns a *RetryError (not a failure) when that would take
// longer than maxWait: the task then goes back to the queue instead of holding a worker slot.
// The process's own limiter paces it first; then the call reserves its slot in the fleet's
// global budget, one Redis round trip per call.
func (pc *pacer) wait(ctx context.Context, maxWait time.Duration, runID string, runRate float64) error {
	start := pc.clock.Now()
	cd, err := pc.cooldownLeft(ctx)
	if err != nil {
		return err
	}
	if cd > 0 {
		if cd > maxWait {
			return &RetryError{Reason: fmt.Sprintf("%s asked us to slow down (429); waiting %s", pc.provider, cd.Round(time.Millisecond)), RetryAfter: cd}
		}
		if err := clock.Sleep(ctx, cd); err != nil {
			return err
		}
	}
	perSecond, burst := pc.rate()
	if perSecond <= 0 && runRate <= 0 {
		return nil
	}
	if pc.local != nil && perSecond > 0 {
		if err := pc.local.Wait(ctx); err != nil {
			return err
		}
	}
	left := max(maxWait-pc.clock.Now().Sub(start), 0)
	d, ok, err := pc.store.Reserve(ctx, pc.provider, perSecond, burst, left)
	if err != nil {
		return err
	}
	if !ok {
		return &RetryError{Reason: fmt.Sprintf("waiting for the %s rate budget", pc.provider), RetryAfter: d - left}
	}
	if runRate > 0 {
		// A run with a rate of its own (a schedule's) also takes a slot of its own budget.
		dr, ok, err := pc.store.ReserveRun(ctx, runID, runRate, left)
		if err != nil {
			return err
		}
		if !ok {
			return &RetryError{Reason: fmt.Sprintf("waiting for run %s's own rate budget", runID), RetryAfter: dr - left}
		}
		d = max(d, dr)
	}
	if err := clock.Sleep(ctx, d); err != nil {
		return err
	}
	if pc.metrics != nil {
		pc.metrics.LimiterWait.WithLabelValues(string(pc.provider)).Observe(pc.clock.Now().Sub(start).Seconds())
	}
	pc.mu.Lock()
	pc.calls++
	pc.mu.Unlock()
	return nil
}

// cooldownLeft returns how long the shared 429 cool-down still lasts, reading Redis at most
// every 250ms.
func (pc *pacer) cooldownLeft(ctx context.Context) (time.Duration, error) {
	pc.mu.Lock()
	now := pc.clock.Now()
	if now.Sub(pc.checkedCool) < 250*time.Millisecond {
		left := pc.cooldown.Sub(now)
		pc.mu.Unlock()
		return max(left, 0), nil
	}
	pc.checkedCool = now
	pc.mu.Unlock()
	d, err := pc.store.Cooldown(ctx, pc.provider)
	if err != nil {
		return 0, err
	}
	pc.mu.Lock()
	pc.cooldown = now.Add(d)
	pc.mu.Unlock()
	return d, nil
}

// rateLimited records a 429: every worker of the provider holds its calls for d, and Auto cuts
// the rate.
func (pc *pacer) rateLimited(ctx context.Context, d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	if pc.metrics != nil {
		pc.metrics.RateLimited.WithLabelValues(string(pc.provider)).Inc()
	}
	pc.mu.Lock()
	pc.saw429 = true
	if until := pc.clock.Now().Add(d); until.After(pc.cooldown) {
		pc.cooldown = until
	}
	pc.mu.Unlock()
	if err := pc.store.SetCooldown(ctx, pc.provider, d); err != nil {
		pc.log.Warn("could not share the 429 cool-down", "provider", pc.provider, "err", err)
	}
	if pc.limit.Auto {
		pc.step(ctx, false)
	}
}

// step moves the Auto rate up (no 429 in the last period) or down (a 429), fleet-wide.
func (pc *pacer) step(ctx context.Context, up bool) {
	pc.mu.Lock()
	cur := pc.current
	pc.mu.Unlock()
	amount := 0.5
	if up {
		amount = max(1, pc.limit.maxRate()/100)
	}
	v, err := pc.store.AutoRateStep(ctx, pc.provider, up, amount, cur, 1, pc.limit.maxRate(), time.Second)
	if err != nil {
		pc.log.Warn("auto rate step failed", "provider", pc.provider, "err", err)
		return
	}
	pc.set(v)
}

func (pc *pacer) set(v float64) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if v == pc.current {
		return
	}
	pc.current = v
	pc.local.SetLimit(rate.Limit(v))
	pc.local.SetBurst(pc.limit.burst(v))
	if pc.metrics != nil {
		pc.metrics.AutoRate.WithLabelValues(string(pc.provider)).Set(v)
	}
}

// autoLoop grows the Auto rate once a second while calls go out and no 429 came.
func (pc *pacer) autoLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pc.mu.Lock()
		busy, hit := pc.calls > 0, pc.saw429
		pc.calls, pc.saw429 = 0, false
		pc.mu.Unlock()
		if busy && !hit {
			pc.step(ctx, true)
		} else if v, ok, err := pc.store.AutoRate(ctx, pc.provider); err == nil && ok {
			pc.set(v)
		}
	}
}
