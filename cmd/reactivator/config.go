// This file binds the provider flags and gives commands the process's Redis connection; the
// settings are read by internal/config and internal/providers.

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"reactivator/internal/oneshot"
	"reactivator/internal/providers"
	"reactivator/internal/redisconn"
)

// providerFlags bind the provider flags (providers.Flags); secrets come only from the environment
// or from files.
type providerFlags struct{ providers.Flags }

func (f *providerFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.StytchProjectID, "stytch-project-id", "", "Stytch project id (env STYTCH_PROJECT_ID)")
	fs.StringVar(&f.StytchBaseURL, "stytch-base-url", "", "Stytch API base URL (env STYTCH_BASE_URL; default from the project id)")
	fs.StringVar(&f.StytchSecretFile, "stytch-secret-file", "", "file holding the Stytch secret (env STYTCH_SECRET_FILE, or STYTCH_SECRET)")
	fs.StringVar(&f.ZitadelURL, "zitadel-url", "", "ZITADEL instance URL, e.g. https://acme.zitadel.cloud (env ZITADEL_URL)")
	fs.StringVar(&f.ZitadelAPI, "zitadel-api", "", "ZITADEL API: v2 or v1 (env ZITADEL_API; default v2)")
	fs.StringVar(&f.ZitadelOrgID, "zitadel-org-id", "", "x-zitadel-orgid for v1 rows without org_id (env ZITADEL_ORG_ID)")
	fs.StringVar(&f.ZitadelTokenFile, "zitadel-token-file", "", "file holding a ZITADEL personal access token (env ZITADEL_TOKEN_FILE, or ZITADEL_TOKEN)")
	fs.StringVar(&f.ZitadelKeyFile, "zitadel-key-file", "", "ZITADEL service-user key file for the JWT profile (env ZITADEL_KEY_FILE)")
	fs.DurationVar(&f.Timeout, "call-timeout", 30*time.Second, "timeout of one provider call")
}

// providers reads the provider settings of f, else of the environment (providers.Load).
func (a *app) providers(f *providerFlags) (providers.Set, error) {
	return providers.Load(a.env, f.Flags)
}

// runsRedis connects to --redis / REDIS_URL or, when none is given, opens the embedded Redis that
// `run` keeps in its state directory, so a one-shot run stays visible to status, report, cancel,
// resume and prune. A command that serves a fleet (worker, scheduler, dash, ingest) uses
// connectRedis, which requires a shared Redis.
func (a *app) runsRedis(ctx context.Context) (*redisconn.Conn, error) {
	opts, err := a.env.Redis(a.redisURL, a.redisCA, &redisconn.Embed{Log: a.log})
	if err != nil {
		return nil, err
	}
	c, err := redisconn.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	if c.Embedded() != nil {
		fmt.Fprintln(a.stderr, c.Describe(true))
	}
	return c, nil
}

// closeRedis closes rc (nil does nothing), logging an embedded Redis's failure to flush.
func (a *app) closeRedis(rc *redisconn.Conn) {
	if err := rc.Close(); err != nil {
		a.log.Error("embedded redis did not stop cleanly", "err", err)
	}
}

// connectRedis connects to --redis / REDIS_URL; required for commands that share a Redis.
func (a *app) connectRedis(ctx context.Context) (*redisconn.Conn, error) {
	return redisconn.Open(ctx, a.sharedRedis())
}

// sharedRedis names the Redis of --redis / REDIS_URL; opening it says what is wrong with it.
func (a *app) sharedRedis() redisconn.Options {
	opts, _ := a.env.Redis(a.redisURL, a.redisCA, nil)
	return opts
}

// session is what the one-shot commands (run, undo) hand the library from the process: settings,
// streams, and the worker that serveFlags tune (checked by limits).
func (a *app) session(pf providerFlags, f serveFlags, rateFromFlag bool) (oneshot.Session, error) {
	limits, err := a.limits(f, rateFromFlag)
	if err != nil {
		return oneshot.Session{}, err
	}
	return oneshot.Session{Env: a.env, Providers: pf.Flags, RedisURL: a.redisURL, RedisCA: a.redisCA, Worker: f.serve.Worker(limits),
		In: a.stdin, Ask: a.stdinIsTerminal(), Out: a.stdout, Err: a.stderr, NewBar: a.newBar, Log: a.log}, nil
}
