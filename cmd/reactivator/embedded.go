// This file gives run and demo their Redis: the one --redis / REDIS_URL names, else an embedded
// one (internal/embedredis), said in one line at start.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/embedredis"
	"reactivator/jobs"
)

// embedOptions say which embedded Redis run and demo start when no Redis is named.
type embedOptions struct {
	// stateDir holds the append-only file; "" means REACTIVATOR_STATE_DIR, else the user's state
	// directory (embedredis.DefaultStateDir).
	stateDir string
	// inProcess forces the in-process Redis.
	inProcess bool
}

// oneShotRedis connects to --redis / REDIS_URL when given, else starts an embedded Redis (emb is
// then non-nil: close it after rc, and after everything that uses it has stopped). It tells w in
// one line which Redis it uses and whether an interrupted run can resume.
func (a *app) oneShotRedis(ctx context.Context, o embedOptions, w io.Writer) (rc *redisConn, emb *embedredis.Redis, err error) {
	if url := a.first(a.redisURL, "REDIS_URL"); url != "" {
		rc, err := redisFromURL(ctx, url, a.first(a.redisCA, "REDIS_CA_FILE"))
		if err != nil {
			return nil, nil, withCode(exitError, err)
		}
		fmt.Fprintf(w, "using the Redis at %s; an interrupted run resumes\n", redactURL(url))
		return rc, nil, nil
	}
	dir := o.stateDir
	if dir == "" {
		dir = a.first("", "REACTIVATOR_STATE_DIR")
	}
	if dir == "" && !o.inProcess {
		if dir, err = embedredis.DefaultStateDir(a.getenv); err != nil {
			return nil, nil, withCode(exitError, err)
		}
	}
	emb, err = embedredis.Start(ctx, embedredis.Options{StateDir: dir, InProcess: o.inProcess, Log: a.log})
	if err != nil {
		var le *embedredis.LockedError
		if errors.As(err, &le) {
			return nil, nil, withCode(exitError, err)
		}
		return nil, nil, withCode(exitError, fmt.Errorf("embedded redis: %w", err))
	}
	opt, err := asynq.ParseRedisURI(emb.URL())
	if err != nil {
		_ = emb.Close()
		return nil, nil, withCode(exitError, fmt.Errorf("embedded redis: %w", err))
	}
	client, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		_ = emb.Close()
		return nil, nil, withCode(exitError, errors.New("embedded redis: unsupported connection type"))
	}
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		_ = emb.Close()
		return nil, nil, withCode(exitError, fmt.Errorf("embedded redis does not answer: %w", err))
	}
	if emb.InProcess() {
		fmt.Fprintln(w, "using an in-process Redis: an interrupted run cannot resume (install redis-server, or give --redis, for runs that can)")
	} else {
		fmt.Fprintf(w, "using a private redis-server, state in %s; an interrupted run resumes\n", emb.StateDir())
	}
	return &redisConn{opt: opt, client: client, store: jobs.NewStore(client), url: emb.URL()}, emb, nil
}

// closeEmbedded stops an embedded Redis (nil does nothing), logging a failure to flush.
func (a *app) closeEmbedded(emb *embedredis.Redis) {
	if emb == nil {
		return
	}
	if err := emb.Close(); err != nil {
		a.log.Error("embedded redis did not stop cleanly", "err", err)
	}
}

// quietLogger returns a.log raised to warn unless debug logging was asked for: the worker's info
// lines would only break a progress bar in a one-shot command.
func (a *app) quietLogger() *slog.Logger {
	if a.log.Enabled(context.Background(), slog.LevelDebug) {
		return a.log
	}
	return slog.New(minLevel{Handler: a.log.Handler(), min: slog.LevelWarn})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
