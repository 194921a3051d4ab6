// This file is the dash command: it serves the web UI (runs, failures, reports, paused providers,
// the asynq monitor and /metrics) on loopback, or anywhere behind basic auth (internal/dash).

package main

import (
	"context"

	"github.com/spf13/cobra"

	"reactivator/internal/control"
	"reactivator/internal/dash"
	"reactivator/internal/redisconn"
	"reactivator/jobs"
	"reactivator/worker"
)

// dashOptions are the dash command's options; the password comes only from the environment or a file.
type dashOptions struct {
	dash.Access
	dash.Config
}

func (o *dashOptions) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "listen address; other than loopback only with basic auth")
	fs.BoolVar(&o.MonitorWrite, "monitor-write", false, "let the queue monitor delete, run, archive and pause (default read-only)")
	fs.StringVar(&o.User, "user", "", "basic-auth user name (env REACTIVATOR_DASH_USER)")
	fs.StringVar(&o.PasswordFile, "password-file", "", "file holding the basic-auth password (env REACTIVATOR_DASH_PASSWORD_FILE, or REACTIVATOR_DASH_PASSWORD)")
	fs.StringVar(&o.GenerateFile, "generate-password", "", "when no password is set, use the one in this file, made up and written there first if the file does not exist, and print it (user: REACTIVATOR_DASH_USER, else "+dash.GeneratedUser+")")
}

func (a *app) dashCmd() *cobra.Command {
	var o dashOptions
	cmd := &cobra.Command{
		Use:   "dash",
		Short: "Serve the web UI: runs, failures, reports, paused providers, queue monitor, metrics",
		Long: `dash serves the web UI of the shared Redis (REDIS_URL): every run with its progress and
outcome counts, a page per run with its failures and report downloads (CSV, JSON, Markdown),
paused providers with their reason and a resume button, the asynq queue monitor at /monitoring/
and Prometheus metrics at /metrics. Open pages update in place (no reload) while a run is in progress.

It listens on 127.0.0.1:8080. The pages show account ids and can resume a provider, so any
address other machines can reach (0.0.0.0, :8080, a LAN address) needs basic auth: set
REACTIVATOR_DASH_USER and REACTIVATOR_DASH_PASSWORD (or --password-file), and put TLS in
front of it. With --generate-password FILE and no password set, it makes one up, keeps it in
FILE (so a restart keeps it) and prints it: what docker-compose.yml does, so that a fresh
checkout starts without a .env. The queue monitor is read-only unless --monitor-write.`,
		Example: `  # on the machine itself, then open http://127.0.0.1:8080/
  export REDIS_URL=redis://redis:6379/0
  reactivator dash

  # for the team, behind basic auth
  export REACTIVATOR_DASH_USER=ops
  reactivator dash --addr :8080 --password-file /run/secrets/dash-password`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Load(a.env); err != nil {
				return err
			}
			o.Announce(a.stdout)
			rc, err := a.connectRedis(cmd.Context())
			if err != nil {
				return err
			}
			defer rc.Close()
			o.Store, o.Redis, o.Logger, o.BasicAuthUser, o.BasicAuthPassword = rc.Store, redisconn.ConnOpt(rc.Client), a.log, o.User, o.Password
			o.Resume = func(ctx context.Context, p jobs.Provider) error { return worker.Resume(ctx, rc.Client, p) }
			o.CheckResume = func(ctx context.Context, p jobs.Provider) error { return control.CheckResumeEnv(ctx, a.env, p) }
			return dash.Serve(cmd.Context(), o.Addr, o.Config, a.stdout)
		},
	}
	o.register(cmd)
	return cmd
}
