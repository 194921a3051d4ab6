// This file is the plan command: a read-only preview of what run would do to each row of CSV
// files (internal/plan does the work).

package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"reactivator/internal/config"
	"reactivator/internal/plan"
)

// planOptions are plan's flags: the planner's config (plan.Config) and how to read the files.
type planOptions struct {
	plan.Config
	provider, delimiter, dir string
	force, json              bool
	pf                       providerFlags
}

func (o *planOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.provider, "provider", "", "the files' provider, stytch or zitadel (default: from the header)")
	fs.StringVar(&o.delimiter, "delimiter", "", "field delimiter: ',', ';' or tab (default: detected)")
	fs.StringVar(&o.RunID, "run", "", "the run id run would use (one file only; default: provider and a hash of the file)")
	fs.StringVar(&o.dir, "dir", "", "the directory the plans go to (default: the working directory)")
	fs.BoolVar(&o.force, "force", false, "overwrite an existing FILE.csv.plan.csv (default: keep it and number the new one)")
	fs.BoolVar(&o.json, "json", false, "print one JSON array of plan summaries on stdout (progress stays on stderr)")
	o.pf.register(fs)
}

// Validate checks the flags before anything is read and sets the reader's options.
func (o *planOptions) Validate(files []string) (err error) {
	o.Options, err = config.Files{Provider: o.provider, Delimiter: o.delimiter, RunID: o.RunID}.Options(len(files))
	return err
}

const planLong = `plan previews what run would do to each row of CSV files, without changing anything: it reads
every row's account at the provider (ZITADEL: ListUsers by up to 1,000 user ids a call; Stytch:
each organization resolved, then Search Members by up to 1,000 member ids a call, every status),
paced (ZITADEL 40 calls a second, Stytch 100 a minute), and predicts the outcome a run started now
would give each row, with the reason it would record. Progress goes to stderr.

The plan of FILE.csv goes to FILE.csv.plan.csv in the working directory (or --dir): the report's columns
(line,provider,organization_id,member_id,user_id,outcome,reason,http_status,request_id,attempts,
finished_at,message), then state (the account's state as read), then the input's extra columns.
outcome "reactivated" means "would be reactivated"; "unknown" (reason not_readable) marks an
account the service user may not read. An existing plan is kept: the new one is numbered
(FILE.csv.plan.1.csv) unless --force.

Rows that the file's run (the run id run would give the file) already finished keep their
recorded outcome, because run would resume that run: without REDIS_URL plan opens run's embedded
Redis, as status and report do. plan queues nothing and calls no write endpoint.

Exit codes: 0 every row would be reactivated; 3 some would not; 4 the provider refused the
credentials, or the ZITADEL service user may write users nowhere (the message says which role to
grant); 1 any other error; 2 a bad command line.`

const planExample = `  # what would run users.csv do? writes users.csv.plan.csv
  export ZITADEL_URL=https://acme.zitadel.cloud ZITADEL_TOKEN_FILE=~/.zitadel-pat
  reactivator plan users.csv

  # the counts as JSON, for a script
  reactivator plan --json members.csv | jq '.[0].counts'

  # find, look, then do it
  reactivator find zitadel --org 200000000000000001 -o restore.csv
  reactivator plan restore.csv && reactivator run restore.csv`

func (a *app) planCmd() *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{Use: "plan FILE.csv...", Short: "Preview, read-only, the outcome run would give each row",
		Long: planLong, Example: planExample, Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := o.Validate(files); err != nil {
				return err
			}
			ps, err := a.providers(&o.pf)
			if err != nil {
				return err
			}
			if err := o.UseProviders(cmd.Context(), ps); err != nil {
				return err
			}
			rc, err := a.runsRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer a.closeRedis(rc)
			o.Store, o.Progress = rc.Store, a.stderr
			sums, err := plan.Files(cmd.Context(), o.Config, files, o.dir, o.force, a.stderr)
			if err != nil {
				return err
			}
			return plan.Print(a.stdout, sums, o.json)
		}}
	o.register(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("provider", completeProvider)
	return cmd
}
