// This file is the check command: it proves the credentials and reachability of every configured
// provider with a read-only call, and holds the check that ingest, worker and resume run first.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"reactivator/jobs"
	"reactivator/worker"
)

// noProvidersHelp says which environment variables configure a provider.
const noProvidersHelp = `no provider is configured: set STYTCH_PROJECT_ID and STYTCH_SECRET (or STYTCH_SECRET_FILE) for Stytch, and/or ZITADEL_URL with ZITADEL_TOKEN (or ZITADEL_TOKEN_FILE, ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET, or ZITADEL_KEY_FILE) for ZITADEL`

func (a *app) checkCmd() *cobra.Command {
	var pf providerFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Verify the credentials and reachability of the configured providers",
		Long: `check makes one read-only call per configured provider and prints one line each:
Stytch POST /v1/b2b/organizations/search with {"limit":1}, ZITADEL GET /auth/v1/users/me and
then where the service user may reactivate users (POST /auth/v1/memberships/me/_search and
POST /auth/v1/permissions/zitadel/me/_search per organisation it has a role in).
Nothing is changed at the provider and nothing is written to Redis.

Exit codes: 0 every provider answered ok; 4 a provider refused the credentials (or the base URL
answers like no provider), or the ZITADEL service user has user.write nowhere (grant it
ORG_USER_MANAGER or IAM_USER_MANAGER); 1 a provider could not be reached, or none is configured.`,
		Example: `  # check the Stytch test project before a run
  export STYTCH_PROJECT_ID=project-test-... STYTCH_SECRET_FILE=~/.stytch-secret
  reactivator check

  # check a ZITADEL instance with a service user's key
  ZITADEL_URL=https://acme.zitadel.cloud ZITADEL_KEY_FILE=key.json reactivator check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := a.providers(&pf)
			if err != nil {
				return err
			}
			if len(ps.configured()) == 0 {
				return errors.New(noProvidersHelp)
			}
			if !asJSON {
				return a.checkProviders(cmd.Context(), ps, ps.configured(), a.stdout)
			}
			doc := CheckResult{Providers: []ProviderCheck{}}
			err = a.checkEach(cmd.Context(), ps, ps.configured(), func(c ProviderCheck) { doc.Providers = append(doc.Providers, c) })
			if cmd.Context().Err() != nil {
				return err
			}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(doc); jerr != nil {
				return jerr
			}
			return err
		},
	}
	pf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON document (the exit code is the same)")
	return cmd
}

// CheckResult is the document `check --json` prints. Its field names and meanings are part of
// the program's interface.
type CheckResult struct {
	// Providers are the configured providers' checks, in the order stytch, zitadel.
	Providers []ProviderCheck `json:"providers"`
}

// ProviderCheck is one provider's check.
type ProviderCheck struct {
	Provider jobs.Provider `json:"provider"`
	// Status is ok; refused (the credentials or the permission were refused: exit 4); or
	// unreachable (no answer, or not the provider's: exit 1).
	Status string `json:"status"`
	// Target is what was checked: the project or instance and its base URL; never a secret.
	Target string `json:"target"`
	// Message says what went wrong; "" when Status is ok.
	Message string `json:"message,omitempty"`
}

// The statuses of a ProviderCheck.
const (
	checkOK          = "ok"
	checkRefused     = "refused"
	checkUnreachable = "unreachable"
)

// checkProviders runs the credentials check of each provider of which (all configured), printing
// one line per provider to w. It returns nil when all are good, an error with exit code 4 when a
// provider refused the credentials, else one with exit code 1 (unreachable, or answering 5xx).
func (a *app) checkProviders(ctx context.Context, ps providerSet, which []jobs.Provider, w io.Writer) error {
	return a.checkEach(ctx, ps, which, func(c ProviderCheck) {
		switch c.Status {
		case checkOK:
			fmt.Fprintf(w, "%s: ok (%s)\n", c.Provider, c.Target)
		case checkRefused:
			fmt.Fprintf(w, "%s: credentials refused: %s\n", c.Provider, c.Message)
		default:
			fmt.Fprintf(w, "%s: not reachable or not answering: %s\n", c.Provider, c.Message)
		}
	})
}

// checkEach checks each provider of which, hands each result to seen, and returns what
// checkProviders does.
func (a *app) checkEach(ctx context.Context, ps providerSet, which []jobs.Provider, seen func(ProviderCheck)) error {
	callers, err := ps.callers(ctx)
	if err != nil {
		return err
	}
	var refused, failed []string
	for _, p := range which {
		c, ok := callers[p]
		if !ok {
			continue
		}
		err := c.Check(ctx)
		res := ProviderCheck{Provider: p, Status: checkOK, Target: ps.describe(p, c)}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, jobs.ErrFatal):
			res.Status, res.Message = checkRefused, checkMessage(p, err)
			refused = append(refused, string(p))
		default:
			res.Status, res.Message = checkUnreachable, checkMessage(p, err)
			failed = append(failed, string(p))
		}
		seen(res)
	}
	switch {
	case len(refused) > 0:
		return fatal(fmt.Errorf("%s refused the credentials", strings.Join(refused, " and ")))
	case len(failed) > 0:
		return fmt.Errorf("%s could not be checked: check the network and the base URL, then try again", strings.Join(failed, " and "))
	}
	return nil
}

// describe says which project or instance a provider's client talks to, without secrets.
func (ps providerSet) describe(p jobs.Provider, c worker.Caller) string {
	base := ""
	if b, ok := c.(interface{ BaseURL() string }); ok {
		base = b.BaseURL()
	}
	switch p {
	case jobs.Stytch:
		if ps.stytch != nil {
			return ps.stytch.ProjectID + ", " + base
		}
	case jobs.Zitadel:
		if ps.zitadel != nil {
			api := ps.zitadel.API
			if api == "" {
				api = "v2"
			}
			out := ps.zitadel.BaseURL + ", API " + api
			if sc, ok := c.(interface{ Scope() string }); ok && sc.Scope() != "" {
				out += "; the service user " + sc.Scope()
			}
			return out
		}
	}
	return base
}

// checkMessage is a check error without the "<provider> check: " its client puts first.
func checkMessage(p jobs.Provider, err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, string(p)+" check: ")
	return strings.TrimSuffix(msg, ": "+jobs.ErrFatal.Error())
}
