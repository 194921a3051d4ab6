// Package redisconn gives a reactivator process its one Redis client: from a REDIS_URL of any
// supported form (a server, a unix socket, Sentinel or Cluster, with or without TLS), or, for the
// one-shot commands, from an embedded Redis started when no URL is given (internal/embedredis).
// Every part of a process (asynq's client, server, inspector and scheduler, and the run store)
// shares that client, and the process closes it once, at its end. A URL's password never appears
// in what this package returns or prints: Redact shows a URL without its secrets.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/embedredis"
	"reactivator/jobs"
)

// Conn is a process's connection to Redis: the client every part of the process shares, and the
// embedded Redis behind it when no URL was given. Close it once, after everything that uses it
// has stopped.
type Conn struct {
	// Client is the process's one Redis client. Hand it to asynq with the …FromRedisClient
	// constructors (or ConnOpt), which leave it open; never close it but through Conn.Close.
	Client redis.UniversalClient
	// Store is the run store over Client (jobs.Store).
	Store *jobs.Store
	url   string
	emb   *embedredis.Redis
	once  sync.Once
	err   error
}

// Options say which Redis Open connects to.
type Options struct {
	// URL names the Redis (see NewClient for the forms). "" starts an embedded Redis when Embed is
	// set, and is an error otherwise.
	URL string
	// CAFile is a PEM file of the CAs trusted for the TLS forms ("" trusts the system's).
	CAFile string
	// Embed, when not nil, says which embedded Redis to start when URL is "".
	Embed *Embed
}

// Embed says which embedded Redis to start (embedredis.Start).
type Embed struct {
	// StateDir holds the append-only file of the redis-server child ("" is embedredis's default).
	StateDir string
	// InProcess forces the in-process Redis, whose data ends with the process.
	InProcess bool
	// Log receives the child's lines; nil discards them.
	Log *slog.Logger
}

// ErrNoURL is Open's error when no URL is given and no embedded Redis is allowed.
var ErrNoURL = errors.New("no Redis: set REDIS_URL or --redis (e.g. redis://localhost:6379/0)")

// checkTimeout bounds the first exchange with a named Redis.
const checkTimeout = 5 * time.Second

// Open connects to the Redis o names and checks that it answers; a named Redis must also be 6.2
// or newer (jobs.Store.CheckServer). An embedded Redis that cannot start gives embedredis's error
// (a *embedredis.LockedError when its state directory is in use).
func Open(ctx context.Context, o Options) (*Conn, error) {
	if o.URL == "" {
		if o.Embed == nil {
			return nil, ErrNoURL
		}
		return openEmbedded(ctx, *o.Embed)
	}
	client, err := NewClient(o.URL, o.CAFile)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := jobs.NewStore(client).CheckServer(cctx); err != nil {
		_ = client.Close()
		var old *jobs.OldRedisError
		if errors.As(err, &old) {
			return nil, fmt.Errorf("redis at %s: %w", Redact(o.URL), err)
		}
		return nil, fmt.Errorf("redis at %s does not answer: %s", Redact(o.URL), scrub(o.URL, err.Error()))
	}
	return &Conn{Client: client, Store: jobs.NewStore(client), url: o.URL}, nil
}

// openEmbedded starts an embedded Redis and connects to it.
func openEmbedded(ctx context.Context, e Embed) (*Conn, error) {
	emb, err := embedredis.Start(ctx, embedredis.Options{StateDir: e.StateDir, InProcess: e.InProcess, Log: e.Log})
	if err != nil {
		var le *embedredis.LockedError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	client, err := NewClient(emb.URL(), "")
	if err != nil {
		_ = emb.Close()
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		_ = emb.Close()
		return nil, fmt.Errorf("embedded redis does not answer: %w", err)
	}
	return &Conn{Client: client, Store: jobs.NewStore(client), url: emb.URL(), emb: emb}, nil
}

// Embedded returns the embedded Redis, nil when a URL was given.
func (c *Conn) Embedded() *embedredis.Redis { return c.emb }

// String returns the URL of the Redis with its secrets redacted.
func (c *Conn) String() string { return Redact(c.url) }

// GoString is String, so that %#v prints no password either.
func (c *Conn) GoString() string { return "redisconn.Conn(" + c.String() + ")" }

// Describe says in one line which Redis this is and whether an interrupted run can resume from
// it. fresh says the state is the command's own (a demo's), so resuming is not mentioned.
func (c *Conn) Describe(fresh bool) string {
	switch {
	case c.emb == nil:
		return fmt.Sprintf("using the Redis at %s; an interrupted run resumes", c)
	case fresh && c.emb.InProcess():
		return "using an in-process Redis"
	case fresh:
		return fmt.Sprintf("using a private redis-server, state in %s", c.emb.StateDir())
	case c.emb.InProcess():
		return "using an in-process Redis: an interrupted run cannot resume (install redis-server, or give --redis, for runs that can)"
	}
	return fmt.Sprintf("using a private redis-server, state in %s; an interrupted run resumes", c.emb.StateDir())
}

// Close closes the client, then stops the embedded Redis, if any (its redis-server child flushes
// its append-only file). It is idempotent; the error is the embedded Redis's.
func (c *Conn) Close() error {
	if c == nil {
		return nil
	}
	c.once.Do(func() {
		_ = c.Client.Close()
		if c.emb != nil {
			c.err = c.emb.Close()
		}
	})
	return c.err
}

// ConnOpt returns an asynq.RedisConnOpt that hands asynq this process's client, for the asynq
// constructors that have no …FromRedisClient form (asynqmon's handler) or that log an error when
// the client is shared (asynq's Scheduler on Shutdown). What asynq builds from it may close it as
// its own: the close is ignored, and Conn.Close closes the client.
func ConnOpt(client redis.UniversalClient) asynq.RedisConnOpt { return sharedOpt{client} }

type sharedOpt struct{ client redis.UniversalClient }

func (o sharedOpt) MakeRedisClient() any { return unclosable{o.client} }

// unclosable is a client whose Close does nothing.
type unclosable struct{ redis.UniversalClient }

func (unclosable) Close() error { return nil }
