// Package clock gives the time to code whose behaviour depends on it, so that tests can inject
// their own, and the one context-aware sleep that every waiting loop uses.
package clock

import (
	"context"
	"time"
)

// Clock tells the time. Structs take a Clock (nil meaning Real) where asynq takes its
// timeutil.Clock: wherever retry math, ages or deadlines depend on now.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Or returns c, or Real when c is nil: the default of a Clock field.
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Func is a Clock from a function, for the structs that hold a `Now func() time.Time`.
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// Sleep waits d, or until ctx ends; it returns ctx's error in that case, else nil. A d of zero or
// less returns at once (nil, unless ctx has ended).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
