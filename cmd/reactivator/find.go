// This file is the find command: it lists the accounts to restore, read-only, into a CSV that
// is valid input (internal/discover does the work).

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"reactivator/internal/discover"
	"reactivator/jobs"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

// findOptions are find's flags.
type findOptions struct {
	provider            jobs.Provider
	orgs                []string
	emailDomain, output string
	after, before, by   string
	json                bool
	pageSize            int
	zq                  discover.ZitadelQuery
	sq                  discover.StytchQuery
	pf                  providerFlags
}

func (o *findOptions) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.orgs, "org", nil, "organization id (Stytch: id or slug); repeat for several")
	fs.StringVar(&o.emailDomain, "email-domain", "", "keep accounts whose email is at this domain, e.g. example.com")
	fs.StringVarP(&o.output, "output", "o", "", "the CSV file to write (required)")
	fs.BoolVar(&o.json, "json", false, "print a JSON summary instead of the sentence")
	fs.IntVar(&o.pageSize, "page-size", 0, "accounts asked for per call (default 1000)")
	_ = fs.MarkHidden("page-size")
	o.pf.register(fs)
}

// Validate checks the flags and builds the query, before any call: a window whose start is
// after its end, or an unreadable time, is a bad command line.
func (o *findOptions) Validate(now time.Time) error {
	if o.output == "" {
		return usageError("-o FILE.csv is required: find writes the accounts it finds there")
	}
	if o.provider == jobs.Stytch {
		o.sq = discover.StytchQuery{Orgs: o.orgs, EmailDomain: o.emailDomain, PageSize: o.pageSize}
		if err := o.sq.Validate(); err != nil {
			return usage(err)
		}
		return nil
	}
	o.zq = discover.ZitadelQuery{Orgs: o.orgs, EmailDomain: o.emailDomain, By: o.by, PageSize: o.pageSize}
	for _, b := range []struct {
		flag, v string
		t       *time.Time
	}{{"--deactivated-after", o.after, &o.zq.After}, {"--deactivated-before", o.before, &o.zq.Before}} {
		if b.v == "" {
			continue
		}
		t, err := discover.ParseTime(b.v, now)
		if err != nil {
			return usageError("%s: %w", b.flag, err)
		}
		*b.t = t
	}
	if err := o.zq.Validate(); err != nil {
		return usage(err)
	}
	return nil
}

const findLong = `find lists the accounts to restore into a CSV that reactivator run, plan and ingest read as
input. It only reads: nothing is changed at the provider and nothing is written to Redis.
Progress goes to stderr; an empty result writes a file with the header only and says so.

ZITADEL: inactive users (POST /v2/users), by organization and email domain; columns
user_id,org_id,email,state,deactivated_at,deactivated_by. --deactivated-after, --deactivated-before
and --deactivated-by read who deactivated whom and when from the events API, which needs the
events.read permission (the role IAM_OWNER): without it find says so and stops (exit 4). A time is
RFC 3339 (2026-11-30T14:02:00Z) or a duration ago (2h).

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
		o := &findOptions{provider: p}
		sub := &cobra.Command{Use: string(p) + " [filters] -o FILE.csv", Short: "Find the " + string(p) + " accounts to restore",
			Long: findLong, Example: findExample, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := o.Validate(time.Now()); err != nil {
					return err
				}
				res, err := a.find(cmd.Context(), o)
				if err != nil {
					return err
				}
				if err := res.WriteFile(o.output); err != nil {
					return err
				}
				return a.printFound(o, res)
			}}
		o.register(sub.Flags())
		if p == jobs.Zitadel {
			sub.Flags().StringVar(&o.after, "deactivated-after", "", "keep users deactivated at or after T (RFC 3339 or a duration ago, e.g. 2h)")
			sub.Flags().StringVar(&o.before, "deactivated-before", "", "keep users deactivated before T (RFC 3339 or a duration ago)")
			sub.Flags().StringVar(&o.by, "deactivated-by", "", "keep users deactivated by this user id")
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

// find builds the provider's client and runs the search; an unknown Stytch org is a bad command line.
func (a *app) find(ctx context.Context, o *findOptions) (*discover.Result, error) {
	ps, err := a.providers(&o.pf)
	if err != nil {
		return nil, err
	}
	if o.provider == jobs.Zitadel {
		if ps.Zitadel == nil {
			return nil, errors.New("ZITADEL is not configured: set ZITADEL_URL and ZITADEL_TOKEN (or ZITADEL_TOKEN_FILE, ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET, or ZITADEL_KEY_FILE)")
		}
		c, err := zitadel.New(ctx, *ps.Zitadel)
		if err != nil {
			return nil, err
		}
		o.zq.Progress = a.stderr
		return discover.Zitadel(ctx, c, o.zq)
	}
	if ps.Stytch == nil {
		return nil, errors.New("no Stytch credentials: set STYTCH_PROJECT_ID and STYTCH_SECRET (or STYTCH_SECRET_FILE)")
	}
	c, err := stytch.New(*ps.Stytch)
	if err != nil {
		return nil, err
	}
	o.sq.Progress = a.stderr
	res, err := discover.Stytch(ctx, c, o.sq)
	if errors.Is(err, discover.ErrUnknownOrg) {
		return nil, usage(err)
	}
	return res, err
}

// printFound says what was written: a sentence, or with --json a summary object.
func (a *app) printFound(o *findOptions, res *discover.Result) error {
	if o.json {
		return json.NewEncoder(a.stdout).Encode(map[string]any{"provider": res.Provider, "file": o.output, "accounts": len(res.Rows), "calls": res.Calls})
	}
	if len(res.Rows) == 0 {
		fmt.Fprintf(a.stdout, "found no %s account to restore: %s has the header only\n", res.Provider, o.output)
		return nil
	}
	fmt.Fprintf(a.stdout, "found %d %s accounts to restore: %s (check it, then: reactivator run %s)\n", len(res.Rows), res.Provider, o.output, o.output)
	return nil
}
