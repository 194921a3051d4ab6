// This file is the find command: it lists the accounts to restore, read-only, into a CSV that
// is valid input (internal/discover does the work).

package main

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"reactivator/internal/discover"
	"reactivator/jobs"
)

// findOptions are find's flags: the request (discover.Request) and the provider settings.
type findOptions struct {
	discover.Request
	pf providerFlags
}

func (o *findOptions) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Orgs, "org", nil, "organization id (Stytch: id or slug); repeat for several")
	fs.StringVar(&o.EmailDomain, "email-domain", "", "keep accounts whose email is at this domain, e.g. example.com")
	fs.StringVarP(&o.Output, "output", "o", "", "the CSV file to write (required)")
	fs.BoolVar(&o.JSON, "json", false, "print a JSON summary instead of the sentence")
	fs.IntVar(&o.PageSize, "page-size", 0, "accounts asked for per call (default 1000)")
	_ = fs.MarkHidden("page-size")
	o.pf.register(fs)
}

const findLong = `find lists the accounts to restore into a CSV that reactivator run, plan and ingest read as
input. It only reads: nothing is changed at the provider and nothing is written to Redis.
Progress goes to stderr; an empty result writes a file with the header only and says so.

ZITADEL: inactive users (POST /v2/users), by organization and email domain; columns
user_id,org_id,email,state,deactivated_at,deactivated_by. --deactivated-after, --deactivated-before
and --deactivated-by read who deactivated whom and when from the events API, which needs the
events.read permission (the role IAM_OWNER): without it find says so and stops (exit 4). A time is
RFC 3339 (2026-11-30T14:02:00Z) or a duration ago (2h). A service user that may reactivate users
nowhere (grant it ORG_USER_MANAGER or IAM_USER_MANAGER) is refused before listing (exit 4).

Stytch: deleted members of the given organizations (ids or slugs, resolved first), searched at
most 100 times a minute; columns organization_id,member_id,email,state.

Exit codes: 0 written (even empty); 1 an error; 2 a bad command line (an unknown Stytch
organization, a window whose start is after its end); 4 the provider refused the credentials or
a permission.`

const findExample = `  # everyone the offboarding script deactivated between 14:02 and 14:19
  reactivator find zitadel --deactivated-after 2026-11-30T14:02:00Z --deactivated-before 2026-11-30T14:19:00Z -o restore.csv

  # inactive users of one organization at one domain
  reactivator find zitadel --org 200000000000000001 --email-domain example.com -o restore.csv

  # deleted members of the Stytch organization with the slug acme
  reactivator find stytch --org acme -o restore.csv`

func (a *app) findCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "find zitadel|stytch [filters] -o FILE.csv", Short: "List the deactivated or deleted accounts to restore into a CSV (read-only)",
		Long: findLong, Example: findExample}
	for _, p := range []jobs.Provider{jobs.Zitadel, jobs.Stytch} {
		o := &findOptions{Request: discover.Request{Provider: p}}
		sub := &cobra.Command{Use: string(p) + " [filters] -o FILE.csv", Short: "Find the " + string(p) + " accounts to restore",
			Long: findLong, Example: findExample, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := o.Validate(time.Now()); err != nil {
					return err
				}
				ps, err := a.providers(&o.pf)
				if err != nil {
					return err
				}
				o.Progress = a.stderr
				res, err := discover.Find(cmd.Context(), ps, &o.Request)
				if err != nil {
					return err
				}
				return discover.Print(a.stdout, &o.Request, res)
			}}
		o.register(sub.Flags())
		if p == jobs.Zitadel {
			sub.Flags().StringVar(&o.After, "deactivated-after", "", "keep users deactivated at or after T (RFC 3339 or a duration ago, e.g. 2h)")
			sub.Flags().StringVar(&o.Before, "deactivated-before", "", "keep users deactivated before T (RFC 3339 or a duration ago)")
			sub.Flags().StringVar(&o.By, "deactivated-by", "", "keep users deactivated by this user id")
		}
		cmd.AddCommand(sub)
	}
	return cmd
}
