// This file is the dash command: it serves the web UI (runs, failures, reports, paused providers,
// the asynq monitor and /metrics) on loopback, or anywhere behind basic auth.

package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"reactivator/internal/dash"
	"reactivator/internal/httpserve"
	"reactivator/jobs"
	"reactivator/worker"
)

// dashFlags are the dash command's flags; the password comes only from the environment or a file.
type dashFlags struct {
	addr         string
	monitorWrite bool
	user         string
	passwordFile string
	genPassword  string // --generate-password: the file a made-up password is kept in
}

func (f *dashFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address; other than loopback only with basic auth")
	fs.BoolVar(&f.monitorWrite, "monitor-write", false, "let the queue monitor delete, run, archive and pause (default read-only)")
	fs.StringVar(&f.user, "user", "", "basic-auth user name (env REACTIVATOR_DASH_USER)")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the basic-auth password (env REACTIVATOR_DASH_PASSWORD_FILE, or REACTIVATOR_DASH_PASSWORD)")
	fs.StringVar(&f.genPassword, "generate-password", "", "when no password is set, use the one in this file, made up and written there first if the file does not exist, and print it (user: REACTIVATOR_DASH_USER, else "+generatedUser+")")
}

// generatedUser is the basic-auth user of a generated password when REACTIVATOR_DASH_USER is unset.
const generatedUser = "ops"

func (a *app) dashCmd() *cobra.Command {
	var f dashFlags
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
			return a.dash(cmd.Context(), f)
		},
	}
	f.register(cmd)
	return cmd
}

// dashCredentials reads the basic-auth user and password; both or neither must be set. With
// --generate-password and no password set, the password is the generated one (generated true).
func (a *app) dashCredentials(f dashFlags) (user, password string, generated bool, err error) {
	user = a.first(f.user, "REACTIVATOR_DASH_USER")
	password, err = a.secret(f.passwordFile, "REACTIVATOR_DASH_PASSWORD_FILE", "REACTIVATOR_DASH_PASSWORD")
	if err != nil {
		return "", "", false, err
	}
	if password == "" && f.genPassword != "" {
		if password, err = generatedPassword(f.genPassword); err != nil {
			return "", "", false, err
		}
		generated = true
		if user == "" {
			user = generatedUser
		}
	}
	switch {
	case user != "" && password == "":
		return "", "", false, errors.New("basic auth: REACTIVATOR_DASH_USER is set but no password: set REACTIVATOR_DASH_PASSWORD or --password-file (or --generate-password FILE)")
	case user == "" && password != "":
		return "", "", false, errors.New("basic auth: a password is set but no user: set REACTIVATOR_DASH_USER or --user")
	case strings.Contains(user, ":"):
		return "", "", false, errors.New("basic auth: REACTIVATOR_DASH_USER must not contain a colon")
	}
	return user, password, generated, nil
}

// generatedPassword returns the password kept in path, first writing a random one there (mode
// 0600) when the file does not exist, so that a restarted dashboard keeps its password.
func generatedPassword(path string) (string, error) {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		pw := rand.Text()
		_, werr := fh.WriteString(pw + "\n")
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("--generate-password: %w", werr)
		}
		return pw, nil
	case !errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("--generate-password: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--generate-password: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("--generate-password: %s is empty: delete it to have a new password made up", path)
	}
	return pw, nil
}

// serveDash serves the dashboard on f.addr until ctx ends. reg gets the dashboard's metrics
// beside what the caller registered (the demo adds its in-process workers').
func (a *app) serveDash(ctx context.Context, rc *redisConn, f dashFlags, user, password string, reg *prometheus.Registry) error {
	h, err := dash.New(dash.Config{
		Store: rc.store, Redis: rc.opt, Registry: reg, MonitorWrite: f.monitorWrite,
		BasicAuthUser: user, BasicAuthPassword: password, Logger: a.log,
		Resume: func(ctx context.Context, p jobs.Provider) error { return worker.Resume(ctx, rc.client, p) },
	})
	if err != nil {
		return err
	}
	defer h.Close()
	srv, err := httpserve.Start(f.addr, h)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", f.addr, err)
	}

	monitor := "read-only"
	if f.monitorWrite {
		monitor = "writable"
		a.log.Warn("the queue monitor can delete, run and archive tasks and pause queues (--monitor-write)")
	}
	auth := "no auth (loopback only)"
	if user != "" {
		auth = "basic auth as " + user
	}
	fmt.Fprintf(a.stdout, "dashboard on http://%s/ (%s; queue monitor %s at /monitoring/; metrics at /metrics)\n",
		srv.Addr(), auth, monitor)
	a.log.Info("serving the dashboard", "addr", srv.Addr().String(), "monitor_write", f.monitorWrite, "basic_auth", user != "")

	select {
	case <-srv.Done():
		return fmt.Errorf("dashboard server stopped: %w", srv.Err())
	case <-ctx.Done():
	}
	if err := srv.Shutdown(); err != nil {
		a.log.Warn("dashboard shutdown cut requests short", "err", err)
	}
	a.log.Info("dashboard stopped")
	return nil
}

// dash serves the dashboard until ctx ends.
func (a *app) dash(ctx context.Context, f dashFlags) error {
	user, password, generated, err := a.dashCredentials(f)
	if err != nil {
		return err
	}
	if generated {
		// Printed on purpose: a password nobody chose is of no use unless the operator can read it.
		fmt.Fprintf(a.stdout, "dashboard basic auth: user %s, password %s (generated, kept in %s; set REACTIVATOR_DASH_PASSWORD to choose one)\n",
			user, password, f.genPassword)
	}
	if err := dash.CheckBind(f.addr, user != ""); err != nil {
		if errors.Is(err, dash.ErrNotLoopback) {
			return usageError("--addr: %v: set REACTIVATOR_DASH_USER and REACTIVATOR_DASH_PASSWORD (or --password-file), or listen on 127.0.0.1", err)
		}
		return usageError("--addr: %v", err)
	}
	rc, err := a.connectRedis(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return a.serveDash(ctx, rc, f, user, password, reg)
}
