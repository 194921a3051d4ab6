// This file runs one scheduler process, as the scheduler command does: an instance token, the
// leader lock, and the Scheduler until the context ends.

package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/internal/exitcode"
	"reactivator/jobs"
)

// Process is one scheduler process.
type Process struct {
	// File is the schedules file Config was loaded from, for the log.
	File   string
	Config Config
	// Redis is asynq's connection and Store the run store (the leader lock) on the same Redis.
	Redis asynq.RedisConnOpt
	Store *jobs.Store
	// RedisURL is where Redis is, with its secrets hidden, for the log.
	RedisURL string
	// LockTTL is how long the active scheduler's lock outlives it.
	LockTTL time.Duration
	// Log gets the process's lines, each with its instance token. Required.
	Log *slog.Logger
}

// ErrLockTTL is a Process.LockTTL under a second: a bad command line.
var ErrLockTTL = errors.New("want 1s or more")

// Validate checks LockTTL (a bad command line, an *exitcode.UsageError wrapping ErrLockTTL) and
// loads File into Config; a file that does not load is refused with the line and field at fault.
func (p *Process) Validate() error {
	if p.LockTTL < time.Second {
		return exitcode.AsUsage(fmt.Errorf("--lock-ttl %s: %w", p.LockTTL, ErrLockTTL))
	}
	cfg, err := Load(p.File)
	if err != nil {
		return fmt.Errorf("schedules not loaded, fix the file and start again:\n%w", err)
	}
	p.Config = cfg
	return nil
}

// Serve queues the pick-ups of p.Config while this instance leads, and stands by otherwise,
// until ctx ends.
func Serve(ctx context.Context, p Process) error {
	token, err := InstanceToken()
	if err != nil {
		return err
	}
	log := p.Log.With("instance", token)
	log.Info("scheduler starting", "config", p.File, "schedules", len(p.Config.Schedules), "reports", p.Config.Reports,
		"redis", p.RedisURL, "lock_ttl", p.LockTTL)
	if p.Config.Reports == "" {
		log.Warn("the schedules file names no reports directory: runs' reports are not written to files")
	}
	s := &Scheduler{Redis: p.Redis, Config: p.Config, Log: log,
		Elector: &Elector{Store: p.Store, Name: Lock, Token: token, TTL: p.LockTTL, Log: log}}
	s.Run(ctx)
	log.Info("scheduler stopped")
	return nil
}
