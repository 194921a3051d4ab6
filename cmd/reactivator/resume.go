// This file is the resume command: it unpauses a provider's queue after the cause of a fatal
// error (refused credentials, a missing permission) was fixed.

package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"reactivator/internal/providers"
	"reactivator/internal/status"
	"reactivator/jobs"
	"reactivator/worker"
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
			return a.resume(cmd.Context(), args[0], &pf, noCheck)
		},
	}
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "skip the credentials check")
	pf.register(cmd.Flags())
	return cmd
}

// resume checks the credentials of provider (unless noCheck), then unpauses it.
func (a *app) resume(ctx context.Context, provider string, pf *providerFlags, noCheck bool) error {
	p, err := jobs.ParseProvider(provider)
	if err != nil {
		return usageError("%v", err)
	}
	ps, err := a.providers(pf)
	if err != nil {
		return err
	}
	switch {
	case noCheck:
	case ps.Has(p):
		if err := providers.CheckTo(ctx, ps, []jobs.Provider{p}, a.stderr); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("%w: %s stays paused; fix the cause first", err, p)
		}
	default:
		fmt.Fprintf(a.stderr, "%s: no credentials on this machine, not checked: make sure the workers' credentials are fixed\n", p)
	}
	rc, err := a.runsRedis(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	paused, err := rc.store.Paused(ctx)
	if err != nil {
		return err
	}
	if err := worker.Resume(ctx, rc.client, p); err != nil {
		return fmt.Errorf("resume %s: %w", p, err)
	}
	info, was := paused[p]
	if !was {
		fmt.Fprintf(a.stdout, "%s was not paused: nothing to resume\n", p)
		return nil
	}
	where := ""
	if info.RunID != "" {
		where = fmt.Sprintf(" by run %s line %d", info.RunID, info.Line)
	}
	fmt.Fprintf(a.stdout, "resumed %s: it was paused since %s%s: %s\n", p, status.TimeText(info.At), where, info.Reason)
	fmt.Fprintf(a.stdout, "the workers pick up its rows within a second; follow them: reactivator status --watch\n")
	return nil
}
