// This file turns flags and environment variables into the config structs of the packages
// below cmd: provider clients, rate limits and the Redis connection. Nothing below cmd reads
// either.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"reactivator/internal/oneshot"
	"reactivator/internal/redisconn"
	"reactivator/jobs"
	"reactivator/worker"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

// providerFlags are the provider settings a command accepts as flags; secrets come only from the
// environment or from files.
type providerFlags struct {
	stytchProjectID, stytchBaseURL, stytchSecretFile string
	zitadelURL, zitadelAPI, zitadelOrgID             string
	zitadelTokenFile, zitadelKeyFile                 string
	timeout                                          time.Duration
}

func (f *providerFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.stytchProjectID, "stytch-project-id", "", "Stytch project id (env STYTCH_PROJECT_ID)")
	fs.StringVar(&f.stytchBaseURL, "stytch-base-url", "", "Stytch API base URL (env STYTCH_BASE_URL; default from the project id)")
	fs.StringVar(&f.stytchSecretFile, "stytch-secret-file", "", "file holding the Stytch secret (env STYTCH_SECRET_FILE, or STYTCH_SECRET)")
	fs.StringVar(&f.zitadelURL, "zitadel-url", "", "ZITADEL instance URL, e.g. https://acme.zitadel.cloud (env ZITADEL_URL)")
	fs.StringVar(&f.zitadelAPI, "zitadel-api", "", "ZITADEL API: v2 or v1 (env ZITADEL_API; default v2)")
	fs.StringVar(&f.zitadelOrgID, "zitadel-org-id", "", "x-zitadel-orgid for v1 rows without org_id (env ZITADEL_ORG_ID)")
	fs.StringVar(&f.zitadelTokenFile, "zitadel-token-file", "", "file holding a ZITADEL personal access token (env ZITADEL_TOKEN_FILE, or ZITADEL_TOKEN)")
	fs.StringVar(&f.zitadelKeyFile, "zitadel-key-file", "", "ZITADEL service-user key file for the JWT profile (env ZITADEL_KEY_FILE)")
	fs.DurationVar(&f.timeout, "call-timeout", 30*time.Second, "timeout of one provider call")
}

// providerSet is the provider configuration of this invocation: nil entries are providers this
// machine has no credentials for.
type providerSet struct {
	stytch  *stytch.Config
	zitadel *zitadel.Config
}

// first returns the flag value, else the environment variable's.
func (a *app) first(flag, env string) string {
	if flag != "" {
		return flag
	}
	return strings.TrimSpace(a.getenv(env))
}

// secret reads a secret from a file (flag or *_FILE env) or from the environment variable.
func (a *app) secret(fileFlag, fileEnv, env string) (string, error) {
	if path := a.first(fileFlag, fileEnv); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", fileEnv, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%s: %s is empty", fileEnv, path)
		}
		return s, nil
	}
	return strings.TrimSpace(a.getenv(env)), nil
}

// providers reads the provider settings. A provider counts as configured when any of its
// settings is present; then its settings must be complete.
func (a *app) providers(f *providerFlags) (providerSet, error) {
	var ps providerSet
	sec, err := a.secret(f.stytchSecretFile, "STYTCH_SECRET_FILE", "STYTCH_SECRET")
	if err != nil {
		return ps, err
	}
	if pid := a.first(f.stytchProjectID, "STYTCH_PROJECT_ID"); pid != "" || sec != "" {
		// A secret file is followed by the client: a rotation needs no restart.
		c := stytch.Config{ProjectID: pid, Secret: sec, SecretFile: a.first(f.stytchSecretFile, "STYTCH_SECRET_FILE"),
			BaseURL: a.first(f.stytchBaseURL, "STYTCH_BASE_URL"), Timeout: f.timeout}
		if err := c.Validate(); err != nil {
			return ps, err
		}
		ps.stytch = &c
	}
	tok, err := a.secret(f.zitadelTokenFile, "ZITADEL_TOKEN_FILE", "ZITADEL_TOKEN")
	if err != nil {
		return ps, err
	}
	zc := zitadel.Config{
		BaseURL: a.first(f.zitadelURL, "ZITADEL_URL"), API: a.first(f.zitadelAPI, "ZITADEL_API"), Token: tok,
		TokenFile: a.first(f.zitadelTokenFile, "ZITADEL_TOKEN_FILE"),
		ClientID:  a.getenv("ZITADEL_CLIENT_ID"), ClientSecret: a.getenv("ZITADEL_CLIENT_SECRET"),
		KeyFile: a.first(f.zitadelKeyFile, "ZITADEL_KEY_FILE"), DefaultOrgID: a.first(f.zitadelOrgID, "ZITADEL_ORG_ID"), Timeout: f.timeout,
	}
	if zc.BaseURL != "" || zc.Token != "" || zc.ClientID != "" || zc.ClientSecret != "" || zc.KeyFile != "" {
		if err := zc.Validate(); err != nil {
			return ps, err
		}
		ps.zitadel = &zc
	}
	return ps, nil
}

// configured lists the providers with credentials.
func (ps providerSet) configured() []jobs.Provider {
	var out []jobs.Provider
	if ps.stytch != nil {
		out = append(out, jobs.Stytch)
	}
	if ps.zitadel != nil {
		out = append(out, jobs.Zitadel)
	}
	return out
}

// changes describes what targets will change, for the confirmation: each file's provider, its
// base URL and environment, and its rows.
func (ps providerSet) changes(targets []oneshot.Target) []oneshot.Change {
	var out []oneshot.Change
	for _, t := range targets {
		c := oneshot.Change{File: t.File, Provider: t.Provider, Rows: t.Rows}
		switch {
		case t.Provider == jobs.Stytch && ps.stytch != nil:
			c.Env, c.BaseURL = ps.stytchEnv(), ps.stytch.BaseURL
			if c.BaseURL == "" {
				c.BaseURL = "https://test.stytch.com"
				if c.Env == "live" {
					c.BaseURL = "https://api.stytch.com"
				}
			}
		case t.Provider == jobs.Zitadel && ps.zitadel != nil:
			c.BaseURL = ps.zitadel.BaseURL
		}
		out = append(out, c)
	}
	return out
}

// stytchEnv returns "test" or "live" when a Stytch project is configured.
func (ps providerSet) stytchEnv() string {
	if ps.stytch == nil {
		return ""
	}
	if strings.HasPrefix(ps.stytch.ProjectID, "project-live-") {
		return "live"
	}
	return "test"
}

// callers builds a client per configured provider, or only for the providers of only.
func (ps providerSet) callers(ctx context.Context, only ...jobs.Provider) (map[jobs.Provider]worker.Caller, error) {
	want := func(p jobs.Provider) bool { return len(only) == 0 || slices.Contains(only, p) }
	out := map[jobs.Provider]worker.Caller{}
	if ps.stytch != nil && want(jobs.Stytch) {
		c, err := stytch.New(*ps.stytch)
		if err != nil {
			return nil, err
		}
		out[jobs.Stytch] = c
	}
	if ps.zitadel != nil && want(jobs.Zitadel) {
		c, err := zitadel.New(ctx, *ps.zitadel)
		if err != nil {
			return nil, err
		}
		out[jobs.Zitadel] = c
	}
	return out, nil
}

// defaultRates are docs/design.md's: under Stytch's published 65/s for write endpoints and ZITADEL
// Cloud's 50/s per IP.
var defaultRates = map[jobs.Provider]worker.Limit{
	jobs.Stytch:  {PerSecond: 50},
	jobs.Zitadel: {PerSecond: 40},
}

// parseRates reads "stytch=50,zitadel=40" (or "stytch=auto"), over the defaults. maxRate caps auto.
func parseRates(spec string, maxRate float64) (map[jobs.Provider]worker.Limit, error) {
	out := map[jobs.Provider]worker.Limit{}
	for p, l := range defaultRates {
		out[p] = l
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("--rate %q: want provider=requests-per-second, e.g. stytch=50,zitadel=40", part)
		}
		p, err := jobs.ParseProvider(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("--rate: %w", err)
		}
		val = strings.TrimSpace(val)
		if val == "auto" {
			out[p] = worker.Limit{PerSecond: 5, Auto: true, MaxRate: maxRate}
			continue
		}
		n, err := strconv.ParseFloat(val, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--rate %s=%s: want a number of requests per second (0 = unlimited) or auto", name, val)
		}
		out[p] = worker.Limit{PerSecond: n}
	}
	return out, nil
}

// redisConn is this process's one Redis client (redisconn) and the run store over it; opt hands
// the same client to the asynq constructors that take a connection option.
type redisConn struct {
	conn   *redisconn.Conn
	opt    asynq.RedisConnOpt
	client redis.UniversalClient
	store  *jobs.Store
	url    string // redacted
}

// Close closes the client and stops the embedded Redis, if any.
func (r *redisConn) Close() error {
	if r == nil {
		return nil
	}
	return r.conn.Close()
}

func newRedisConn(c *redisconn.Conn) *redisConn {
	return &redisConn{conn: c, opt: redisconn.ConnOpt(c.Client), client: c.Client, store: jobs.NewStore(c.Client), url: c.String()}
}

// redisFromURL connects to the Redis at url (redisconn's URL forms), with caFile as the trusted CA
// of the TLS forms. It checks the server answers and is 6.2 or newer.
func redisFromURL(ctx context.Context, url, caFile string) (*redisConn, error) {
	c, err := redisconn.Open(ctx, redisconn.Options{URL: url, CAFile: caFile})
	if err != nil {
		return nil, err
	}
	return newRedisConn(c), nil
}

// redactURL hides a Redis URL's secrets in messages.
func redactURL(u string) string { return redisconn.Redact(u) }

// runsRedis connects to --redis / REDIS_URL or, when none is given, opens the embedded Redis that
// `run` keeps in its state directory, so a one-shot run stays visible to status, report, cancel,
// resume and prune. A command that serves a fleet (worker, scheduler, dash, ingest) uses
// connectRedis, which requires a shared Redis.
func (a *app) runsRedis(ctx context.Context) (*redisConn, error) {
	if a.first(a.redisURL, "REDIS_URL") != "" {
		return a.connectRedis(ctx)
	}
	rc, _, err := a.oneShotRedis(ctx, embedOptions{fresh: true}, a.stderr)
	return rc, err
}

// connectRedis connects to --redis / REDIS_URL; required for commands that share a Redis.
func (a *app) connectRedis(ctx context.Context) (*redisConn, error) {
	url := a.first(a.redisURL, "REDIS_URL")
	if url == "" {
		return nil, errors.New("no Redis: set REDIS_URL or --redis (e.g. redis://localhost:6379/0)")
	}
	return redisFromURL(ctx, url, a.first(a.redisCA, "REDIS_CA_FILE"))
}
