// This file gives run, undo and demo their Redis: the one --redis / REDIS_URL names, else an
// embedded one (internal/embedredis), said in one line at start; and run and undo the worker
// they work their runs with in this process.

package main

import (
	"context"
	"fmt"
	"io"

	"reactivator/internal/asynqlog"
	"reactivator/internal/embedredis"
	"reactivator/internal/providers"
	"reactivator/internal/redisconn"
	"reactivator/jobs"
	"reactivator/worker"
)

// embedOptions say which embedded Redis run and demo start when no Redis is named.
type embedOptions struct {
	// stateDir holds the append-only file; "" means REACTIVATOR_STATE_DIR, else the user's state
	// directory (embedredis.DefaultStateDir).
	stateDir string
	// inProcess forces the in-process Redis.
	inProcess bool
	// fresh says the state is the command's own (the demo's), so nothing is said about resuming.
	fresh bool
}

// oneShotRedis connects to --redis / REDIS_URL when given, else starts an embedded Redis (emb is
// then non-nil; rc.Close stops it: close rc after everything that uses it has stopped). It tells w
// in one line which Redis it uses and whether an interrupted run can resume.
func (a *app) oneShotRedis(ctx context.Context, o embedOptions, w io.Writer) (rc *redisConn, emb *embedredis.Redis, err error) {
	opts, err := a.env.Redis(a.redisURL, a.redisCA, &redisconn.Embed{StateDir: o.stateDir, InProcess: o.inProcess, Log: a.log})
	if err != nil {
		return nil, nil, err
	}
	c, err := redisconn.Open(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(w, c.Describe(o.fresh))
	return newRedisConn(c), c.Embedded(), nil
}

// closeRedis closes rc (nil does nothing), logging an embedded Redis's failure to flush.
func (a *app) closeRedis(rc *redisConn) {
	if err := rc.Close(); err != nil {
		a.log.Error("embedded redis did not stop cleanly", "err", err)
	}
}

// inProcessServer returns the worker a one-shot command (run, undo) works its runs with in this
// process, for providers, after resuming the providers an earlier run left paused (resumePaused).
// shared says the Redis is a shared one: its run:finished tasks belong to its workers and scheduler.
func (a *app) inProcessServer(ctx context.Context, rc *redisConn, shared bool, ps providers.Set, providers []jobs.Provider,
	f serveFlags, limits map[jobs.Provider]worker.Limit, noCheck bool) (*worker.Server, error) {
	callers, err := ps.Callers(ctx, providers...)
	if err != nil {
		return nil, err
	}
	if err := a.resumePaused(ctx, rc, providers, noCheck); err != nil {
		return nil, err
	}
	return worker.New(worker.Config{
		Redis: rc.client, Callers: callers, Limits: limits,
		Concurrency: f.concurrency, MaxAttempts: f.maxAttempts, MaxRowAge: f.maxRowAge,
		ShutdownTimeout: f.shutdownTimeout, Logger: asynqlog.Quiet(a.log), NoControl: shared,
	})
}

// resumePaused resumes the providers an earlier run left paused by a fatal answer, now that their
// credentials check passed. With --no-check nothing proves the cause was fixed: it stops (exit 4).
func (a *app) resumePaused(ctx context.Context, rc *redisConn, providers []jobs.Provider, noCheck bool) error {
	paused, err := rc.store.Paused(ctx)
	if err != nil {
		return err
	}
	for _, p := range providers {
		pp, ok := paused[p]
		if !ok {
			continue
		}
		if noCheck {
			return fatal(fmt.Errorf("%s is paused since an earlier run: %s\n  the credentials were not checked (--no-check): run again without --no-check to check them and resume, or fix the cause and run: reactivator resume %s", p, pp.Reason, p))
		}
		if err := worker.Resume(ctx, rc.client, p); err != nil {
			return fmt.Errorf("resume %s: %w", p, err)
		}
		fmt.Fprintf(a.stderr, "%s was paused by an earlier run (%s); its credentials check passed: resumed\n", p, pp.Reason)
	}
	return nil
}
