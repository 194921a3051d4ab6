// This file serves the dashboard as the dash command does: basic-auth credentials (a generated
// password kept in a file included), then the handler on an address until the context ends.

package dash

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"reactivator/internal/httpserve"
)

// GeneratedUser is the basic-auth user of a generated password when no user is given.
const GeneratedUser = "ops"

// Credentials checks the basic-auth user and password (both or neither must be set). With
// generateFile and no password, the password is the one kept in generateFile (GeneratedPassword),
// generated is true, and the user defaults to GeneratedUser.
func Credentials(user, password, generateFile string) (u, p string, generated bool, err error) {
	if password == "" && generateFile != "" {
		if password, err = GeneratedPassword(generateFile); err != nil {
			return "", "", false, err
		}
		generated = true
		if user == "" {
			user = GeneratedUser
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

// GeneratedPassword returns the password kept in path, first writing a random one there (mode
// 0600) when the file does not exist, so that a restarted dashboard keeps its password.
func GeneratedPassword(path string) (string, error) {
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

// Serve serves the dashboard of cfg on addr until ctx ends, and tells out where. A nil
// cfg.Registry gets the Go and process metrics beside the dashboard's.
func Serve(ctx context.Context, addr string, cfg Config, out io.Writer) error {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	h, err := New(cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	log := h.log
	srv, err := httpserve.Start(addr, h)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", addr, err)
	}

	monitor := "read-only"
	if cfg.MonitorWrite {
		monitor = "writable"
		log.Warn("the queue monitor can delete, run and archive tasks and pause queues (--monitor-write)")
	}
	auth := "no auth (loopback only)"
	if cfg.BasicAuthUser != "" {
		auth = "basic auth as " + cfg.BasicAuthUser
	}
	fmt.Fprintf(out, "dashboard on http://%s/ (%s; queue monitor %s at /monitoring/; metrics at /metrics)\n",
		srv.Addr(), auth, monitor)
	log.Info("serving the dashboard", "addr", srv.Addr().String(), "monitor_write", cfg.MonitorWrite, "basic_auth", cfg.BasicAuthUser != "")

	select {
	case <-srv.Done():
		return fmt.Errorf("dashboard server stopped: %w", srv.Err())
	case <-ctx.Done():
	}
	if err := srv.Shutdown(); err != nil {
		log.Warn("dashboard shutdown cut requests short", "err", err)
	}
	log.Info("dashboard stopped")
	return nil
}
