// This file is the retry policy: backoff with full jitter, Retry-After, and the errors that tell
// asynq a retry is not a failed attempt.

package worker

import (
	"errors"
	"math"
	"time"
)

// Backoff says how long to wait between attempts of a row.
type Backoff struct {
	// Base is the first attempt's ceiling; 0 means 2s.
	Base time.Duration
	// Cap is the largest ceiling; 0 means 10 minutes.
	Cap time.Duration
}

// Delay returns the wait before retry n (n = 1 after the first failed attempt): a uniform random
// share rnd in [0,1) of min(Cap, Base*2^(n-1)) ("full jitter"). A provider's Retry-After wins when
// it is longer; it is never shortened.
func (b Backoff) Delay(n int, retryAfter time.Duration, rnd float64) time.Duration {
	base, ceil := b.Base, b.Cap
	if base <= 0 {
		base = 2 * time.Second
	}
	if ceil <= 0 {
		ceil = 10 * time.Minute
	}
	if n < 1 {
		n = 1
	}
	window := float64(ceil)
	if n < 62 {
		window = math.Min(float64(ceil), float64(base)*math.Pow(2, float64(n-1)))
	}
	d := time.Duration(rnd * window)
	if d < 100*time.Millisecond {
		d = 100 * time.Millisecond
	}
	if retryAfter > d {
		return retryAfter
	}
	return d
}

// RetryError asks asynq to run the task again after RetryAfter. Failure says whether it counts
// as a failed attempt: transient provider answers do; waits for the rate budget, 429 cool-downs
// and a paused provider do not.
type RetryError struct {
	Reason     string
	RetryAfter time.Duration
	Failure    bool
}

func (e *RetryError) Error() string { return e.Reason }

// notAnAttempt sends a task back to the queue without using one of its attempts: a Redis error,
// a stop, a wait that ended. It keeps a *RetryError as it is.
func notAnAttempt(err error) error {
	var re *RetryError
	if errors.As(err, &re) {
		return err
	}
	return &RetryError{Reason: err.Error(), RetryAfter: time.Second}
}

// isFailure is asynq's IsFailure: only RetryErrors marked Failure, and unknown errors, count.
func isFailure(err error) bool {
	var re *RetryError
	if errors.As(err, &re) {
		return re.Failure
	}
	return true
}
