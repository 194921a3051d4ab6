// This file is the hidden fakeidp command: it serves the fake Stytch and ZITADEL (internal/fakeidp)
// with seeded accounts, for docker compose's demo profile, and can drop the matching sample
// files into an inbox.

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/fakeidp"
	"reactivator/internal/httpserve"
	"reactivator/internal/oneshot"
	"reactivator/jobs"
)

// fakeidpFlags are the fakeidp command's flags.
type fakeidpFlags struct {
	stytchAddr, zitadelAddr string
	members, users          int
	seed                    uint64
	latency                 time.Duration
	errorRate               float64
	writeCSV                string
	credentialsDir          string
	probe                   bool
}

// fakeZitadelOrg is the organization of the fake ZITADEL's token.
const fakeZitadelOrg = "100000000000000001"

func (a *app) fakeidpCmd() *cobra.Command {
	var f fakeidpFlags
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
			if f.probe {
				return probeFakes(cmd.Context(), f)
			}
			return a.fakeidp(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.stytchAddr, "stytch-addr", "127.0.0.1:8081", "listen address of the fake Stytch")
	fs.StringVar(&f.zitadelAddr, "zitadel-addr", "127.0.0.1:8082", "listen address of the fake ZITADEL")
	fs.IntVar(&f.members, "members", 60, "Stytch members to seed")
	fs.IntVar(&f.users, "users", 60, "ZITADEL users to seed")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the accounts: the same seed gives the same accounts and files")
	fs.DurationVar(&f.latency, "latency", 20*time.Millisecond, "latency of each fake call")
	fs.Float64Var(&f.errorRate, "error-rate", 0.02, "share of calls answered 5xx (retried by the workers)")
	fs.StringVar(&f.writeCSV, "write-csv", "", "write the sample files of the seeded accounts into this directory")
	fs.StringVar(&f.credentialsDir, "credentials-dir", "", "make up the fakes' secret and token (or reuse those there) and write them to stytch-secret and zitadel-token in this directory, for workers' *_FILE variables")
	fs.BoolVar(&f.probe, "probe", false, "check that the fakes at the given addresses answer, and exit (a healthcheck)")
	return cmd
}

func (a *app) fakeidp(ctx context.Context, f fakeidpFlags) error {
	projectID := a.first("", "STYTCH_PROJECT_ID")
	var secret, token string
	var err error
	if f.credentialsDir != "" {
		secret, token, err = demoCredentials(f.credentialsDir)
	} else {
		secret, err = a.secret("", "STYTCH_SECRET_FILE", "STYTCH_SECRET")
		if err == nil {
			token, err = a.secret("", "ZITADEL_TOKEN_FILE", "ZITADEL_TOKEN")
		}
	}
	if err != nil {
		return err
	}
	switch {
	case !strings.HasPrefix(projectID, "project-test-") || secret == "":
		return errors.New("set STYTCH_PROJECT_ID (a project-test- id) and STYTCH_SECRET: the credentials the fake Stytch accepts")
	case token == "":
		return errors.New("set ZITADEL_TOKEN: the token the fake ZITADEL accepts")
	}
	st := fakeidp.NewStytch(projectID, secret)
	z := fakeidp.NewZitadel("") // any Host: workers may name it by a compose service name
	z.AddToken(token, fakeZitadelOrg)
	faults := fakeidp.Faults{Latency: f.latency, Rate5xx: f.errorRate, Seed: int64(f.seed)}
	st.SetFaults(faults)
	z.SetFaults(faults)
	stRows, zRows := st.SeedDemo(f.members, f.seed), z.SeedDemo(f.users, f.seed)

	var servers []*httpserve.Server
	defer func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
	}()
	for _, fake := range []struct {
		name, addr string
		h          http.Handler
	}{{"stytch", f.stytchAddr, st}, {"zitadel", f.zitadelAddr, z}} {
		srv, err := httpserve.Start(fake.addr, fake.h)
		if err != nil {
			return fmt.Errorf("fake %s: %w", fake.name, err)
		}
		servers = append(servers, srv)
		a.log.Info("fake provider serving", "provider", fake.name, "url", "http://"+srv.Addr().String())
	}
	a.log.Info("fake accounts seeded", "stytch_members", f.members, "zitadel_users", f.users, "seed", f.seed)

	if f.writeCSV != "" {
		for _, file := range []struct {
			p    jobs.Provider
			rows []fakeidp.DemoRow
		}{{jobs.Stytch, stRows}, {jobs.Zitadel, zRows}} {
			path := filepath.Join(f.writeCSV, string(file.p)+"-demo.csv")
			if err := writeWhole(path, file.p, file.rows); err != nil {
				return err
			}
			a.log.Info("sample file written", "path", path, "rows", len(file.rows))
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case <-servers[0].Done():
		return fmt.Errorf("fake stytch: %w", servers[0].Err())
	case <-servers[1].Done():
		return fmt.Errorf("fake zitadel: %w", servers[1].Err())
	}
}

// demoCredentials returns the fakes' secret and token from dir, making them up and writing them
// there the first time: a restarted fake keeps accepting what the running workers hold.
func demoCredentials(dir string) (secret, token string, err error) {
	get := func(name string) (string, error) {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("--credentials-dir: %w", err)
		}
		v := oneshot.RandomHex(24)
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(v+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("--credentials-dir: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", fmt.Errorf("--credentials-dir: %w", err)
		}
		return v, nil
	}
	if secret, err = get("stytch-secret"); err != nil {
		return "", "", err
	}
	token, err = get("zitadel-token")
	return secret, token, err
}

// writeWhole writes a sample file under a hidden temporary name, then renames it into place, so
// an inbox pick-up never sees it half-written.
func writeWhole(path string, p jobs.Provider, rows []fakeidp.DemoRow) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := oneshot.WriteSampleFile(tmp, p, rows); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// probeFakes checks that both fakes answer HTTP at their addresses (--probe).
func probeFakes(ctx context.Context, f fakeidpFlags) error {
	client := &http.Client{Timeout: 3 * time.Second}
	for _, addr := range []string{f.stytchAddr, f.zitadelAddr} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("fake at %s does not answer: %w", addr, err)
		}
		_ = resp.Body.Close()
	}
	return nil
}
