// This file is the check command: it proves the credentials and reachability of every configured
// provider with a read-only call (internal/providers).

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/providers"
)

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
			if len(ps.Configured()) == 0 {
				return providers.ErrNoneConfigured
			}
			if asJSON {
				return providers.CheckJSON(cmd.Context(), ps, ps.Configured(), a.stdout)
			}
			return providers.CheckTo(cmd.Context(), ps, ps.Configured(), a.stdout)
		},
	}
	pf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON document (the exit code is the same)")
	return cmd
}
