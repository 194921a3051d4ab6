// This file serves the fake providers on their own, for the compose demo: seeded accounts, the
// credentials they accept, the sample files of their accounts dropped whole into an inbox.

package oneshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"reactivator/internal/config"
	"reactivator/internal/fakeidp"
	"reactivator/internal/httpserve"
	"reactivator/jobs"
)

// fakeZitadelOrg is the organization of the fake ZITADEL's token.
const fakeZitadelOrg = "100000000000000001"

// Fakes are the fake Stytch and ZITADEL that the compose demo's workers call.
type Fakes struct {
	// StytchAddr and ZitadelAddr are where the fakes listen.
	StytchAddr, ZitadelAddr string
	// ProjectID (a project-test- id) and Secret are what the fake Stytch accepts; Token what the
	// fake ZITADEL accepts. Credentials sets them.
	ProjectID, Secret, Token string
	// CredentialsDir, when set, is where Credentials keeps a made-up Secret and Token.
	CredentialsDir string
	// Members and Users are the accounts seeded; Seed makes them and the faults repeatable.
	Members, Users int
	Seed           uint64
	// Latency is added to each call; ErrorRate is the share of calls answered 5xx.
	Latency   time.Duration
	ErrorRate float64
	// WriteCSV, when set, is the directory that gets the sample files of the seeded accounts.
	WriteCSV string
	// Log says where the fakes serve and what was written. Required.
	Log *slog.Logger
}

// Serve serves the fakes until ctx ends (nil) or one of them stops (its error).
func (f Fakes) Serve(ctx context.Context) error {
	switch {
	case !strings.HasPrefix(f.ProjectID, "project-test-") || f.Secret == "":
		return errors.New("set STYTCH_PROJECT_ID (a project-test- id) and STYTCH_SECRET: the credentials the fake Stytch accepts")
	case f.Token == "":
		return errors.New("set ZITADEL_TOKEN: the token the fake ZITADEL accepts")
	}
	st := fakeidp.NewStytch(f.ProjectID, f.Secret)
	z := fakeidp.NewZitadel("") // any Host: workers may name it by a compose service name
	z.AddToken(f.Token, fakeZitadelOrg)
	faults := fakeidp.Faults{Latency: f.Latency, Rate5xx: f.ErrorRate, Seed: int64(f.Seed)}
	st.SetFaults(faults)
	z.SetFaults(faults)
	stRows, zRows := st.SeedDemo(f.Members, f.Seed), z.SeedDemo(f.Users, f.Seed)

	var servers []*httpserve.Server
	defer func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
	}()
	for _, fake := range []struct {
		name, addr string
		h          http.Handler
	}{{"stytch", f.StytchAddr, st}, {"zitadel", f.ZitadelAddr, z}} {
		srv, err := httpserve.Start(fake.addr, fake.h)
		if err != nil {
			return fmt.Errorf("fake %s: %w", fake.name, err)
		}
		servers = append(servers, srv)
		f.Log.Info("fake provider serving", "provider", fake.name, "url", "http://"+srv.Addr().String())
	}
	f.Log.Info("fake accounts seeded", "stytch_members", f.Members, "zitadel_users", f.Users, "seed", f.Seed)

	if f.WriteCSV != "" {
		for _, file := range []struct {
			p    jobs.Provider
			rows []fakeidp.DemoRow
		}{{jobs.Stytch, stRows}, {jobs.Zitadel, zRows}} {
			path := filepath.Join(f.WriteCSV, string(file.p)+"-demo.csv")
			if err := writeWhole(path, file.p, file.rows); err != nil {
				return err
			}
			f.Log.Info("sample file written", "path", path, "rows", len(file.rows))
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

// Credentials sets the credentials the fakes accept: ProjectID from env (STYTCH_PROJECT_ID), and
// Secret and Token made up in CredentialsDir (DemoCredentials) or, without one, read from env as a
// worker reads them (STYTCH_SECRET_FILE or STYTCH_SECRET, ZITADEL_TOKEN_FILE or ZITADEL_TOKEN).
func (f *Fakes) Credentials(env config.Env) (err error) {
	f.ProjectID = env.First("", "STYTCH_PROJECT_ID")
	if f.CredentialsDir != "" {
		f.Secret, f.Token, err = DemoCredentials(f.CredentialsDir)
	} else if f.Secret, err = env.Secret("", "STYTCH_SECRET_FILE", "STYTCH_SECRET"); err == nil {
		f.Token, err = env.Secret("", "ZITADEL_TOKEN_FILE", "ZITADEL_TOKEN")
	}
	return err
}

// DemoCredentials returns the fakes' secret and token from dir, making them up and writing them
// there the first time: a restarted fake keeps accepting what the running workers hold.
func DemoCredentials(dir string) (secret, token string, err error) {
	get := func(name string) (string, error) {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("--credentials-dir: %w", err)
		}
		v := RandomHex(24)
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
	if err := WriteSampleFile(tmp, p, rows); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ProbeFakes checks that a fake answers HTTP at each of addrs (a healthcheck).
func ProbeFakes(ctx context.Context, addrs ...string) error {
	client := &http.Client{Timeout: 3 * time.Second}
	for _, addr := range addrs {
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
