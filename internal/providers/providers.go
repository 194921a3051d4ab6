// Package providers turns the provider settings of flags and environment into provider configs
// (Load), builds a client per configured provider (Set.Callers), and proves their credentials
// with a read-only call each (Check), as check, run, ingest, worker and resume do first.
package providers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"reactivator/internal/config"
	"reactivator/jobs"
	"reactivator/worker"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

// Flags are the provider settings a command accepts as flags; "" leaves a setting to the
// environment. Secrets come only from the environment or from files.
type Flags struct {
	StytchProjectID, StytchBaseURL, StytchSecretFile string
	ZitadelURL, ZitadelAPI, ZitadelOrgID             string
	ZitadelTokenFile, ZitadelKeyFile                 string
	// Timeout bounds one provider call.
	Timeout time.Duration
}

// Set is the provider configuration of a process: a nil entry is a provider this machine has no
// credentials for.
type Set struct {
	Stytch  *stytch.Config
	Zitadel *zitadel.Config
}

// Load reads the provider settings of f, else of env. A provider counts as configured when any
// of its settings is present; then its settings must be complete.
func Load(env config.Env, f Flags) (Set, error) {
	var ps Set
	sec, err := env.Secret(f.StytchSecretFile, "STYTCH_SECRET_FILE", "STYTCH_SECRET")
	if err != nil {
		return ps, err
	}
	if pid := env.First(f.StytchProjectID, "STYTCH_PROJECT_ID"); pid != "" || sec != "" {
		// A secret file is followed by the client: a rotation needs no restart.
		c := stytch.Config{ProjectID: pid, Secret: sec, SecretFile: env.First(f.StytchSecretFile, "STYTCH_SECRET_FILE"),
			BaseURL: env.First(f.StytchBaseURL, "STYTCH_BASE_URL"), Timeout: f.Timeout}
		if err := c.Validate(); err != nil {
			return ps, err
		}
		ps.Stytch = &c
	}
	tok, err := env.Secret(f.ZitadelTokenFile, "ZITADEL_TOKEN_FILE", "ZITADEL_TOKEN")
	if err != nil {
		return ps, err
	}
	zc := zitadel.Config{
		BaseURL: env.First(f.ZitadelURL, "ZITADEL_URL"), API: env.First(f.ZitadelAPI, "ZITADEL_API"), Token: tok,
		TokenFile: env.First(f.ZitadelTokenFile, "ZITADEL_TOKEN_FILE"),
		ClientID:  env("ZITADEL_CLIENT_ID"), ClientSecret: env("ZITADEL_CLIENT_SECRET"),
		KeyFile: env.First(f.ZitadelKeyFile, "ZITADEL_KEY_FILE"), DefaultOrgID: env.First(f.ZitadelOrgID, "ZITADEL_ORG_ID"), Timeout: f.Timeout,
	}
	if zc.BaseURL != "" || zc.Token != "" || zc.ClientID != "" || zc.ClientSecret != "" || zc.KeyFile != "" {
		if err := zc.Validate(); err != nil {
			return ps, err
		}
		ps.Zitadel = &zc
	}
	return ps, nil
}

// Configured lists the providers with credentials, in the order of jobs.Providers.
func (ps Set) Configured() []jobs.Provider {
	var out []jobs.Provider
	if ps.Stytch != nil {
		out = append(out, jobs.Stytch)
	}
	if ps.Zitadel != nil {
		out = append(out, jobs.Zitadel)
	}
	return out
}

// Has reports whether this machine has credentials for p.
func (ps Set) Has(p jobs.Provider) bool { return slices.Contains(ps.Configured(), p) }

// StytchEnv returns "test" or "live" when a Stytch project is configured, else "".
func (ps Set) StytchEnv() string {
	if ps.Stytch == nil {
		return ""
	}
	if strings.HasPrefix(ps.Stytch.ProjectID, "project-live-") {
		return "live"
	}
	return "test"
}

// BaseURL returns the base URL the client of p calls ("" when p is not configured); Stytch's
// default follows the project's environment.
func (ps Set) BaseURL(p jobs.Provider) string {
	switch {
	case p == jobs.Stytch && ps.Stytch != nil:
		if ps.Stytch.BaseURL != "" {
			return ps.Stytch.BaseURL
		}
		if ps.StytchEnv() == "live" {
			return "https://api.stytch.com"
		}
		return "https://test.stytch.com"
	case p == jobs.Zitadel && ps.Zitadel != nil:
		return ps.Zitadel.BaseURL
	}
	return ""
}

// Clients are the provider clients of a Set: nil for a provider it has no credentials for, or
// that was not asked for.
type Clients struct {
	Stytch  *stytch.Client
	Zitadel *zitadel.Client
}

// Clients builds a client per configured provider, or only for the providers of only.
func (ps Set) Clients(ctx context.Context, only ...jobs.Provider) (Clients, error) {
	want := func(p jobs.Provider) bool { return len(only) == 0 || slices.Contains(only, p) }
	var out Clients
	var err error
	if ps.Stytch != nil && want(jobs.Stytch) {
		if out.Stytch, err = stytch.New(*ps.Stytch); err != nil {
			return Clients{}, err
		}
	}
	if ps.Zitadel != nil && want(jobs.Zitadel) {
		if out.Zitadel, err = zitadel.New(ctx, *ps.Zitadel); err != nil {
			return Clients{}, err
		}
	}
	return out, nil
}

// Callers builds a client per configured provider, or only for the providers of only.
func (ps Set) Callers(ctx context.Context, only ...jobs.Provider) (map[jobs.Provider]worker.Caller, error) {
	cl, err := ps.Clients(ctx, only...)
	if err != nil {
		return nil, err
	}
	out := map[jobs.Provider]worker.Caller{}
	if cl.Stytch != nil {
		out[jobs.Stytch] = cl.Stytch
	}
	if cl.Zitadel != nil {
		out[jobs.Zitadel] = cl.Zitadel
	}
	return out, nil
}

// ErrNoneConfigured is a command that needs a provider run where none has credentials; its
// message says which settings configure one.
var ErrNoneConfigured = errors.New("no provider is configured: set STYTCH_PROJECT_ID and STYTCH_SECRET (or STYTCH_SECRET_FILE) for Stytch, and/or ZITADEL_URL with ZITADEL_TOKEN (or ZITADEL_TOKEN_FILE, ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET, or ZITADEL_KEY_FILE) for ZITADEL")

// NotConfigured is the error of a command that needs p where p has no credentials: it says
// which settings configure p.
func NotConfigured(p jobs.Provider) error {
	if p == jobs.Stytch {
		return errors.New("no Stytch credentials: set STYTCH_PROJECT_ID and STYTCH_SECRET (or STYTCH_SECRET_FILE)")
	}
	return errors.New("ZITADEL is not configured: set ZITADEL_URL and ZITADEL_TOKEN (or ZITADEL_TOKEN_FILE, ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET, or ZITADEL_KEY_FILE)")
}
