// This file is the worker command: it checks the credentials this machine holds, then serves those
// providers' queues with their rate limits until SIGTERM or SIGINT, optionally with /metrics.

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/providers"
	"reactivator/internal/schedule"
	"reactivator/jobs"
	"reactivator/worker"
)

// workerFlags are the worker command's own flags.
type workerFlags struct {
	serveFlags
	worker.Process
}

func (a *app) workerCmd() *cobra.Command {
	var pf providerFlags
	f := workerFlags{Process: worker.Process{Retention: worker.Retention(jobs.DefaultRetention)}}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Serve the queues of the providers this machine has credentials for",
		Long: `worker calls the reactivate endpoint for the rows queued on the shared Redis (REDIS_URL), for
every provider this machine has credentials for, and records each row's outcome. Run as many
replicas as you like: the rate limit of each provider is one budget shared by the whole fleet.

It checks the credentials first and exits 4 at once when a provider refuses them, rather than
start and pause that provider's queue. Later, a fatal answer (credentials revoked, permission
taken away) pauses the provider's queue for every worker until ` + "`reactivator resume PROVIDER`" + `.
Transient answers (429, 5xx, timeouts) are retried with backoff up to --max-attempts; a row that
entered its provider's window of queued tasks longer ago than --max-row-age ends as failed (time
waiting in the run store before that does not count).

On SIGTERM or SIGINT it stops taking rows, lets calls in flight finish for --shutdown-timeout
(rows still running then go back to the queue for another worker), and exits 0.`,
		Example: `  # serve Stytch at the default 50 requests/s on the shared Redis
  export REDIS_URL=redis://redis:6379/0 STYTCH_PROJECT_ID=project-live-... STYTCH_SECRET_FILE=/run/secrets/stytch
  reactivator worker

  # ZITADEL at 20/s, Stytch discovering its limit up to 100/s, metrics for Prometheus
  reactivator worker --rate zitadel=20,stytch=auto --max-rate 100 --metrics-addr :9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			limits, err := a.limits(f.serveFlags, cmd.Flags().Changed("rate"))
			if err != nil {
				return err
			}
			ps, err := a.providers(&pf)
			if err != nil {
				return err
			}
			callers, err := providers.WorkerCallers(cmd.Context(), ps, a.stderr)
			if err != nil {
				return err
			}
			rc, err := a.connectRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer rc.Close()
			f.Config = f.serve.Worker(limits)
			if f.Handlers, f.OnRunFinished, err = schedule.WorkerHandlers(rc.Store, rc.Client, ps.StytchEnv(), a.log); err != nil {
				return err // schedules: inbox pick-ups, report files
			}
			f.Redis, f.Callers, f.Logger, f.RedisURL = rc.Client, callers, a.log, rc.String()
			return f.Process.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	f.serveFlags.register(fs)
	fs.StringVar(&f.MetricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address, e.g. :9090 (default: off)")
	fs.Var(&f.Retention, "retention", "delete finished runs this long after they finished, one worker of the fleet at a time (0: keep them)")
	pf.register(fs)
	return cmd
}
