package worker

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"reactivator/jobs"
)

// stepClock is a clock.Clock that moves only when the test says so.
type stepClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// TestPacerCooldownFollowsItsClock drives the pacer's clock: the shared 429 cool-down is read
// from Redis at most every 250ms of that clock, and a 429 of its own holds calls until the
// clock has moved past it.
func TestPacerCooldownFollowsItsClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clk := &stepClock{at: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	pc := newPacer(jobs.Stytch, b.store, Limit{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), clk)
	left := func() time.Duration {
		t.Helper()
		d, err := pc.cooldownLeft(b.ctx)
		if err != nil {
			t.Fatalf("cooldownLeft() error = %v", err)
		}
		return d
	}

	if got := left(); got != 0 {
		t.Fatalf("cooldownLeft() before any 429 = %v, want 0", got)
	}
	// Another worker of the fleet met a 429.
	if err := b.store.SetCooldown(b.ctx, jobs.Stytch, time.Minute); err != nil {
		t.Fatal(err)
	}
	clk.advance(100 * time.Millisecond)
	if got := left(); got != 0 {
		t.Errorf("cooldownLeft() 100ms after the last read = %v, want 0 (the cached read)", got)
	}
	clk.advance(200 * time.Millisecond)
	if got := left(); got <= 0 || got > time.Minute {
		t.Errorf("cooldownLeft() 300ms after the last read = %v, want the shared cool-down, in (0, 1m]", got)
	}

	// A 429 of its own: counted from the pacer's clock, exactly.
	pc.rateLimited(b.ctx, time.Hour)
	if got := left(); got != time.Hour {
		t.Errorf("cooldownLeft() right after a 1h 429 = %v, want 1h", got)
	}
	clk.advance(200 * time.Millisecond)
	if got := left(); got != time.Hour-200*time.Millisecond {
		t.Errorf("cooldownLeft() 200ms after a 1h 429 = %v, want 59m59.8s", got)
	}
}
