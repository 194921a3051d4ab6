// This file is what run and undo share: a Session (settings, streams, worker tuning), the Redis
// it opens, the credentials check, and the one in-process worker both work their runs with.

package oneshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"reactivator/internal/asynqlog"
	"reactivator/internal/config"
	"reactivator/internal/progress"
	"reactivator/internal/providers"
	"reactivator/internal/redisconn"
	"reactivator/internal/runwait"
	"reactivator/jobs"
	"reactivator/worker"
)

// Session is what a one-shot command (Files, Undo) takes from its process and command line
// besides its own request: where its settings and its Redis come from, its worker's tuning, its
// streams.
type Session struct {
	// Env reads what the flags leave unset (config.Env). Required.
	Env config.Env
	// Providers are the provider flags; providers.Load reads the rest from Env.
	Providers providers.Flags
	// RedisURL and RedisCA are --redis and --redis-ca ("": REDIS_URL, REDIS_CA_FILE). When no
	// Redis is named, Embed is started (config.Env.Redis: its StateDir "" is
	// REACTIVATOR_STATE_DIR, else the user's state directory); its Log is set to Log.
	RedisURL, RedisCA string
	Embed             redisconn.Embed
	// Worker tunes the in-process worker: its Limits, Concurrency, MaxAttempts, MaxRowAge and
	// ShutdownTimeout (also how long an interrupt lets calls finish). Its Redis, Callers, Logger
	// and NoControl are set here.
	Worker worker.Config
	// NoCheck skips the credentials check (and then refuses to resume a paused provider).
	NoCheck bool
	// Yes skips the confirmation; Ask says the confirmation may be asked (stdin is a terminal):
	// it is asked on Err and its answer read from In.
	Yes, Ask bool
	In       io.Reader
	// Force overwrites existing reports; false keeps them and numbers the new ones.
	Force bool
	// Out gets the summaries, Err the progress and notes. Required.
	Out, Err io.Writer
	// NewBar makes a progress reporter on Err. Required.
	NewBar func(label string, total int) *progress.Bar
	// Log is the process's logger (quietened for the worker). Required.
	Log *slog.Logger
}

// errNotConfirmed is the error of a confirmation not given.
var errNotConfirmed = errors.New("not confirmed: nothing was called or queued")

// open connects to the Redis s names, else starts the embedded one (close it with s.close), and
// says on Err in one line which Redis it uses and whether an interrupted run can resume.
func (s Session) open(ctx context.Context) (*redisconn.Conn, error) {
	emb := s.Embed
	emb.Log = s.Log
	opts, err := s.Env.Redis(s.RedisURL, s.RedisCA, &emb)
	if err != nil {
		return nil, err
	}
	c, err := redisconn.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(s.Err, c.Describe(false))
	return c, nil
}

// close closes c, logging an embedded Redis's failure to flush.
func (s Session) close(c *redisconn.Conn) {
	if err := c.Close(); err != nil {
		s.Log.Error("embedded redis did not stop cleanly", "err", err)
	}
}

// check checks the credentials of which with a read-only call each, on Err.
func (s Session) check(ctx context.Context, ps providers.Set, which []jobs.Provider) error {
	if err := providers.CheckTo(ctx, ps, which, s.Err); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: nothing was called", err)
	}
	return nil
}

// server returns the worker that works the runs in this process, for which, after resuming the
// providers an earlier run left paused (resumePaused). shared says the Redis is a shared one: its
// run:finished tasks belong to its workers and scheduler.
func (s Session) server(ctx context.Context, c *redisconn.Conn, shared bool, ps providers.Set, which []jobs.Provider) (*worker.Server, error) {
	callers, err := ps.Callers(ctx, which...)
	if err != nil {
		return nil, err
	}
	if err := s.resumePaused(ctx, c, which); err != nil {
		return nil, err
	}
	cfg := s.Worker
	cfg.Redis, cfg.Callers, cfg.Logger, cfg.NoControl = c.Client, callers, asynqlog.Quiet(s.Log), shared
	return worker.New(cfg)
}

// resumePaused resumes the providers an earlier run left paused by a fatal answer, now that their
// credentials check passed. With NoCheck nothing proves the cause was fixed: it stops (jobs.ErrFatal).
func (s Session) resumePaused(ctx context.Context, c *redisconn.Conn, which []jobs.Provider) error {
	paused, err := c.Store.Paused(ctx)
	if err != nil {
		return err
	}
	for _, p := range which {
		pp, ok := paused[p]
		if !ok {
			continue
		}
		if s.NoCheck {
			return runwait.Mark(jobs.ErrFatal, fmt.Errorf("%s is paused since an earlier run: %s\n  the credentials were not checked (--no-check): run again without --no-check to check them and resume, or %s and run: reactivator resume %s", p, pp.Reason, pp.Fix(), p))
		}
		if err := worker.Resume(ctx, c.Client, p); err != nil {
			return fmt.Errorf("resume %s: %w", p, err)
		}
		fmt.Fprintf(s.Err, "%s was paused by an earlier run (%s); its credentials check passed: resumed\n", p, pp.Reason)
	}
	return nil
}

// runner is the Runner that works runs on c with s's streams.
func (s Session) runner(c *redisconn.Conn) *Runner {
	emb := c.Embedded()
	return &Runner{Store: c.Store, Out: s.Out, Err: s.Err, NewBar: s.NewBar, Log: s.Log,
		InProcess: emb != nil && emb.InProcess(), ShutdownTimeout: s.Worker.ShutdownTimeout, Force: s.Force}
}
