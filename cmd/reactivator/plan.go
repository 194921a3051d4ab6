// This file is the plan command: a read-only preview of what run would do to each row of CSV
// files (internal/plan does the work).

package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"reactivator/internal/plan"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

// planOptions are plan's flags.
type planOptions struct {
	provider, delimiter, runID string
	dir                        string
	force, json                bool
	pf                         providerFlags
}

func (o *planOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.provider, "provider", "", "the files' provider, stytch or zitadel (default: from the header)")
	fs.StringVar(&o.delimiter, "delimiter", "", "field delimiter: ',', ';' or tab (default: detected)")
	fs.StringVar(&o.runID, "run", "", "the run id run would use (one file only; default: provider and a hash of the file)")
	fs.StringVar(&o.dir, "dir", "", "the directory the plans go to (default: the working directory)")
	fs.BoolVar(&o.force, "force", false, "overwrite an existing FILE.csv.plan.csv (default: keep it and number the new one)")
	fs.BoolVar(&o.json, "json", false, "print one JSON array of plan summaries on stdout (progress stays on stderr)")
	o.pf.register(fs)
}

// Validate checks the flags before anything is read.
func (o *planOptions) Validate(files []string) error {
	_, err := fileFlags{provider: o.provider, delimiter: o.delimiter, runID: o.runID}.options(len(files))
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
			sums, err := a.plan(cmd.Context(), o, files)
			if err != nil {
				return err
			}
			return a.printPlans(o, sums)
		}}
	o.register(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("provider", completeProvider)
	return cmd
}

// plan builds the readers and the run store and plans the files.
func (a *app) plan(ctx context.Context, o *planOptions, files []string) ([]plan.Summary, error) {
	opts, _ := fileFlags{provider: o.provider, delimiter: o.delimiter}.options(len(files))
	ps, err := a.providers(&o.pf)
	if err != nil {
		return nil, err
	}
	cfg := plan.Config{Options: opts, StytchEnv: ps.StytchEnv(), RunID: o.runID, Progress: a.stderr}
	if ps.Zitadel != nil {
		if cfg.Zitadel, err = zitadel.New(ctx, *ps.Zitadel); err != nil {
			return nil, err
		}
		cfg.ZitadelAPI, cfg.DefaultOrgID = ps.Zitadel.API, ps.Zitadel.DefaultOrgID
	}
	if ps.Stytch != nil {
		if cfg.Stytch, err = stytch.New(*ps.Stytch); err != nil {
			return nil, err
		}
	}
	rc, err := a.runsRedis(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	cfg.Store = rc.store
	return plan.Files(ctx, cfg, files, o.dir, o.force, a.stderr)
}

// printPlans prints the plans' summaries and turns "not every row would be reactivated" into exit 3.
func (a *app) printPlans(o *planOptions, sums []plan.Summary) error {
	if o.json {
		if err := json.NewEncoder(a.stdout).Encode(sums); err != nil {
			return err
		}
	} else {
		plan.WriteText(a.stdout, sums)
	}
	for _, s := range sums {
		if !s.AllReactivated {
			return notAllReactivated(errors.New(""))
		}
	}
	return nil
}
