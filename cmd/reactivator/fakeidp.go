// This file is the hidden fakeidp command: it serves the fake Stytch and ZITADEL (internal/fakeidp)
// with seeded accounts, for docker compose's demo profile, and can drop the matching sample
// files into an inbox (oneshot.Fakes).

package main

import (
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/oneshot"
)

// fakeidpOptions are the fakeidp command's flags: the fakes (oneshot.Fakes) and what else to do.
type fakeidpOptions struct {
	oneshot.Fakes
	probe bool
}

func (a *app) fakeidpCmd() *cobra.Command {
	var o fakeidpOptions
	cmd := &cobra.Command{
		Use:    "fakeidp",
		Hidden: true,
		Short:  "Serve fake Stytch and ZITADEL APIs with seeded accounts (for the compose demo)",
		Long: `fakeidp serves the fake Stytch B2B and ZITADEL APIs that the tests use, seeded with a mix of
accounts (deactivated ones to restore, active ones, unverified emails, unknown ids), over plain
HTTP: give workers their URLs on loopback (in compose, workers share the fake's network).

It accepts the credentials of the environment, the same variables a worker reads:
STYTCH_PROJECT_ID (a project-test- id), STYTCH_SECRET or STYTCH_SECRET_FILE, and ZITADEL_TOKEN
or ZITADEL_TOKEN_FILE; or, with --credentials-dir, a secret and token it makes up once and
writes to files there for the workers' STYTCH_SECRET_FILE and ZITADEL_TOKEN_FILE, so no demo
credential is written into a config file. With --write-csv it writes stytch-demo.csv and zitadel-demo.csv, the
sample files of its accounts, into a directory (an inbox), each whole or not at all.

It is for demos and tests only: it holds everything in memory and never calls anything.`,
		Example: `  export STYTCH_PROJECT_ID=project-test-00000000-0000-4000-8000-000000000000 STYTCH_SECRET=demo ZITADEL_TOKEN=demo
  reactivator fakeidp --write-csv /data/inbox
  # the compose healthcheck
  reactivator fakeidp --probe`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.probe {
				return oneshot.ProbeFakes(cmd.Context(), o.StytchAddr, o.ZitadelAddr)
			}
			// The credentials of the environment, or made up in --credentials-dir.
			if err := o.Credentials(a.env); err != nil {
				return err
			}
			o.Log = a.log
			return o.Serve(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.StytchAddr, "stytch-addr", "127.0.0.1:8081", "listen address of the fake Stytch")
	fs.StringVar(&o.ZitadelAddr, "zitadel-addr", "127.0.0.1:8082", "listen address of the fake ZITADEL")
	fs.IntVar(&o.Members, "members", 60, "Stytch members to seed")
	fs.IntVar(&o.Users, "users", 60, "ZITADEL users to seed")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the accounts: the same seed gives the same accounts and files")
	fs.DurationVar(&o.Latency, "latency", 20*time.Millisecond, "latency of each fake call")
	fs.Float64Var(&o.ErrorRate, "error-rate", 0.02, "share of calls answered 5xx (retried by the workers)")
	fs.StringVar(&o.WriteCSV, "write-csv", "", "write the sample files of the seeded accounts into this directory")
	fs.StringVar(&o.CredentialsDir, "credentials-dir", "", "make up the fakes' secret and token (or reuse those there) and write them to stytch-secret and zitadel-token in this directory, for workers' *_FILE variables")
	fs.BoolVar(&o.probe, "probe", false, "check that the fakes at the given addresses answer, and exit (a healthcheck)")
	return cmd
}
