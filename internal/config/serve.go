// This file is the tuning of a worker: the worker command's and the one run and undo start in
// this process, with its checks.

package config

import (
	"fmt"
	"time"

	"reactivator/jobs"
	"reactivator/worker"
)

// Serve tunes a worker. Its fields are the flags of the same names; their defaults are the flags'
// (given beside each), and a zero is refused by Validate, except for Rate.
type Serve struct {
	// Rate is --rate: requests per second per provider, "stytch=50,zitadel=40" or "stytch=auto".
	// When RateFromFlag is false it is not read: REACTIVATOR_RATE is, over DefaultRates (Limits).
	Rate         string
	RateFromFlag bool
	// MaxRate is the most requests per second --rate auto may reach (default 200).
	MaxRate float64
	// Concurrency is how many rows are handled at once (default 100).
	Concurrency int
	// MaxAttempts is how many transient failures a row may have before it ends failed (default 12).
	MaxAttempts int
	// MaxRowAge ends a row failed when it entered its provider's window longer ago than this
	// (default 24h); the time it waited in the run store before that does not count.
	MaxRowAge time.Duration
	// ShutdownTimeout is how long calls in flight may finish on shutdown or Ctrl-C (default 40s).
	ShutdownTimeout time.Duration
}

// Validate checks s, naming the flag at fault; a Rate given by flag must parse.
func (s Serve) Validate() error {
	switch {
	case s.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: want 1 or more", s.Concurrency)
	case s.MaxAttempts < 1:
		return fmt.Errorf("--max-attempts %d: want 1 or more", s.MaxAttempts)
	case s.MaxRowAge <= 0:
		return fmt.Errorf("--max-row-age %s: want a positive duration, e.g. 24h", s.MaxRowAge)
	case s.ShutdownTimeout <= 0:
		return fmt.Errorf("--shutdown-timeout %s: want a positive duration, e.g. 40s", s.ShutdownTimeout)
	case s.MaxRate <= 0:
		return fmt.Errorf("--max-rate %g: want a positive number of requests per second", s.MaxRate)
	}
	if s.RateFromFlag {
		if _, err := ParseRates(s.Rate, s.MaxRate); err != nil {
			return err
		}
	}
	return nil
}

// Limits returns the providers' rate limits of s: Rate when RateFromFlag, else REACTIVATOR_RATE,
// over the defaults (Rates). Call it on a valid s (Validate).
func (e Env) Limits(s Serve) (map[jobs.Provider]worker.Limit, error) {
	return e.Rates(s.Rate, s.RateFromFlag, s.MaxRate)
}

// Worker is the worker configuration s tunes, with limits (Limits).
func (s Serve) Worker(limits map[jobs.Provider]worker.Limit) worker.Config {
	return worker.Config{Limits: limits, Concurrency: s.Concurrency, MaxAttempts: s.MaxAttempts, MaxRowAge: s.MaxRowAge,
		ShutdownTimeout: s.ShutdownTimeout}
}
