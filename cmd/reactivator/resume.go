// This file is the resume command: it unpauses a provider's queue after the cause of a fatal
// error (refused credentials, a missing permission) was fixed.

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/control"
	"reactivator/jobs"
)

func (a *app) resumeCmd() *cobra.Command {
	var pf providerFlags
	var noCheck bool
	cmd := &cobra.Command{
		Use:   "resume PROVIDER",
		Short: "Unpause a provider after the fatal error was fixed",
		Long: `resume unpauses the queue of PROVIDER (stytch or zitadel) after a fatal answer paused it for
every worker, and says what the pause was about. Fix the cause first: rotate the secret the
workers use, give the service user its permission back, correct the base URL.

When this machine has credentials for the provider, resume checks them first with a read-only
call and refuses (exit 4) while the provider still refuses them; --no-check skips that. The
workers pick up the waiting rows within a second, those that met the pause included (their
retries are run at once); the row that met the fatal answer is called again.`,
		Example: `  # after rotating the Stytch secret of the workers
  reactivator status            # shows why stytch is paused
  reactivator resume stytch`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeProvider,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := jobs.ParseProvider(args[0])
			if err != nil {
				return usageError("%v", err)
			}
			ps, err := a.providers(&pf)
			if err != nil {
				return err
			}
			if !noCheck {
				if err := control.CheckResume(cmd.Context(), ps, p, a.stderr); err != nil {
					return err
				}
			}
			rc, err := a.runsRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer a.closeRedis(rc)
			return control.Resume(cmd.Context(), rc.Client, p, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "skip the credentials check")
	pf.register(cmd.Flags())
	return cmd
}
