// This file is responsible for choosing and starting the embedded Redis and for its handle, Redis.

package embedredis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/alicebob/miniredis/v2"
)

// Options configure Start. Zero values take the defaults named on each field.
type Options struct {
	// StateDir holds the append-only file, the server's log, the lock and (when its path is short
	// enough) the socket; it is created with mode 0700. "" means DefaultStateDir(os.Getenv).
	StateDir string
	// Log receives what the embedded Redis does; nil discards it.
	Log *slog.Logger
	// InProcess forces the in-process Redis even when redis-server is installed.
	InProcess bool
	// RedisServer is the redis-server binary; "" looks it up on PATH.
	RedisServer string
}

// Redis is a started embedded Redis. Close stops it.
type Redis struct {
	url      string
	stateDir string
	mini     *miniredis.Miniredis
	child    *child
	log      *slog.Logger

	once     sync.Once
	closeErr error
}

// Start starts a private redis-server in o.StateDir when one is installed (or o.RedisServer names
// one), else an in-process Redis. A state directory in use by another process gives a
// *LockedError. ctx bounds the start only, not the server's life: Close stops it.
func Start(ctx context.Context, o Options) (*Redis, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if !o.InProcess && childSupported {
		bin := o.RedisServer
		if bin == "" {
			bin, _ = exec.LookPath("redis-server")
		}
		if bin != "" {
			dir := o.StateDir
			if dir == "" {
				var err error
				if dir, err = DefaultStateDir(os.Getenv); err != nil {
					return nil, err
				}
			}
			c, err := startChild(ctx, bin, dir, log)
			if err != nil {
				return nil, err
			}
			return &Redis{url: c.url(), stateDir: c.dir, child: c, log: log}, nil
		}
		log.Debug("no redis-server on PATH: using an in-process Redis")
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, fmt.Errorf("start in-process redis: %w", err)
	}
	return &Redis{url: "redis://" + m.Addr() + "/0", mini: m, log: log}, nil
}

// URL returns the Redis URL in asynq's form (asynq.ParseRedisURI): redis-socket:///path/redis.sock
// for the redis-server child, redis://127.0.0.1:port/0 for the in-process Redis.
func (r *Redis) URL() string { return r.url }

// InProcess reports whether this is the in-process Redis, whose data ends with the process: an
// interrupted run cannot resume.
func (r *Redis) InProcess() bool { return r.mini != nil }

// StateDir returns the directory of the append-only file, "" for the in-process Redis.
func (r *Redis) StateDir() string { return r.stateDir }

// Close stops the Redis: the redis-server child gets SIGTERM, flushes its append-only file and is
// waited for (it is killed if it has not exited after a minute). Close is idempotent.
func (r *Redis) Close() error {
	r.once.Do(func() {
		if r.mini != nil {
			r.mini.Close()
			return
		}
		r.closeErr = r.child.stop()
	})
	return r.closeErr
}

// DefaultStateDir returns $XDG_STATE_HOME/reactivator/redis, else ~/.local/state/reactivator/redis,
// with getenv reading the environment.
func DefaultStateDir(getenv func(string) string) (string, error) {
	if x := getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "reactivator", "redis"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", errors.New("no state directory for the embedded redis: set XDG_STATE_HOME or HOME, or give --state-dir")
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "reactivator", "redis"), nil
}

// LockedError is returned by Start when another process holds the state directory.
type LockedError struct {
	Dir string
	// PID is the process that started the holder ("" when unknown); Server the redis-server
	// child's pid when it is known.
	PID, Server int
	// Orphan is true when the process that started the holding redis-server is gone: a leftover
	// server keeps the lock.
	Orphan bool
}

func (e *LockedError) Error() string {
	if e.Orphan && e.Server > 0 {
		return fmt.Sprintf("state directory %s is held by a leftover redis-server (pid %d) of an earlier run that did not stop it: stop it (kill %d) and run again, or use a Redis of your own with --redis",
			e.Dir, e.Server, e.Server)
	}
	who := "another reactivator command"
	if e.PID > 0 {
		who = fmt.Sprintf("another reactivator command (pid %d)", e.PID)
	}
	return fmt.Sprintf("state directory %s is in use by %s: wait for it to finish, or give this one a Redis of its own with --redis (or another --state-dir)", e.Dir, who)
}
