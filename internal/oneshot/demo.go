// This file is the demo's world: fake providers on loopback, seeded, with made-up credentials,
// and the sample files of their accounts.

package oneshot

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

// DemoOptions are the sizes and faults of a demo's fake providers.
type DemoOptions struct {
	// Members and Users are the accounts seeded in the fake Stytch and ZITADEL; 0 leaves that
	// provider out.
	Members, Users int
	// Latency is added to each fake call; ErrorRate is the share of calls answered 5xx.
	Latency   time.Duration
	ErrorRate float64
	// Seed makes the accounts and the faults repeatable.
	Seed uint64
}

// Demo is a running demo world: fake providers, the configs that reach them, its sample files.
type Demo struct {
	// Stytch and Zitadel reach the fakes; nil for a provider left out.
	Stytch  *stytch.Config
	Zitadel *zitadel.Config
	// StytchURL and ZitadelURL are the fakes' base URLs.
	StytchURL, ZitadelURL string
	// Files are the sample CSV files, one per provider with accounts.
	Files []string

	opts DemoOptions
	stop func()
}

// StartDemo starts the fake providers on loopback, seeded, with random credentials, and writes
// their sample files into samples. Stop stops the fakes.
func StartDemo(o DemoOptions, samples string) (*Demo, error) {
	secret, token := RandomHex(24), RandomHex(24)
	projectID := "project-test-" + randomUUID()
	st := fakeidp.NewStytch(projectID, secret)
	z := fakeidp.NewZitadel("127.0.0.1")
	z.AddToken(token, "100000000000000001")
	faults := fakeidp.Faults{Latency: o.Latency, Rate5xx: o.ErrorRate, Seed: int64(o.Seed)}
	st.SetFaults(faults)
	z.SetFaults(faults)
	var stRows, zRows []fakeidp.DemoRow
	if o.Members > 0 {
		stRows = st.SeedDemo(o.Members, o.Seed)
	}
	if o.Users > 0 {
		zRows = z.SeedDemo(o.Users, o.Seed)
	}
	d := &Demo{opts: o}
	var stStop, zStop func()
	d.StytchURL, stStop = fakeidp.Serve(st)
	d.ZitadelURL, zStop = fakeidp.Serve(z)
	d.stop = func() { stStop(); zStop() }
	sc := stytch.Config{ProjectID: projectID, Secret: secret, BaseURL: d.StytchURL, Timeout: 10 * time.Second}
	zc := zitadel.Config{BaseURL: d.ZitadelURL, Token: token, Timeout: 10 * time.Second}
	if err := sc.Validate(); err != nil {
		d.stop()
		return nil, err
	}
	if err := zc.Validate(); err != nil {
		d.stop()
		return nil, err
	}
	if o.Members > 0 {
		d.Stytch = &sc
	}
	if o.Users > 0 {
		d.Zitadel = &zc
	}
	for _, s := range []struct {
		name string
		p    jobs.Provider
		rows []fakeidp.DemoRow
	}{{"stytch-members.csv", jobs.Stytch, stRows}, {"zitadel-users.csv", jobs.Zitadel, zRows}} {
		if len(s.rows) <= 2 { // only the typo and the repeat: no accounts asked for
			continue
		}
		path := filepath.Join(samples, s.name)
		if err := WriteSampleFile(path, s.p, s.rows); err != nil {
			d.stop()
			return nil, err
		}
		d.Files = append(d.Files, path)
	}
	return d, nil
}

// Stop stops the fake providers.
func (d *Demo) Stop() { d.stop() }

// WriteIntro says what the demo does and where to look. redisURL is the demo's own Redis, ""
// when the operator gave one.
func (d *Demo) WriteIntro(w io.Writer, reports, dashURL, redisURL string, once bool) {
	fmt.Fprintln(w, "reactivator demo: reactivating sample accounts against fake providers, all in this process")
	fmt.Fprintln(w)
	faults := fmt.Sprintf("%s latency, %.0f%% of calls answered 5xx and retried", d.opts.Latency, d.opts.ErrorRate*100)
	if d.Stytch != nil {
		fmt.Fprintf(w, "  fake Stytch     %s  (%d members; %s)\n", d.StytchURL, d.opts.Members, faults)
	}
	if d.Zitadel != nil {
		fmt.Fprintf(w, "  fake ZITADEL    %s  (%d users; %s)\n", d.ZitadelURL, d.opts.Users, faults)
	}
	for i, path := range d.Files {
		label := ""
		if i == 0 {
			label = "sample files"
		}
		fmt.Fprintf(w, "  %-14s  %s\n", label, path)
	}
	fmt.Fprintf(w, "  reports         %s%c\n", reports, filepath.Separator)
	fmt.Fprintf(w, "  dashboard       %s  (asynq monitor %smonitoring/, metrics %smetrics)\n", dashURL, dashURL, dashURL)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "From another terminal, on the demo's Redis:")
	if redisURL == "" {
		fmt.Fprintln(w, "  (REDIS_URL as you gave it)")
	} else {
		fmt.Fprintf(w, "  export REDIS_URL=%s\n", redisURL)
	}
	fmt.Fprintln(w, "  reactivator status --watch")
	fmt.Fprintln(w, "  reactivator report RUN --format md      (RUN: an id that status lists)")
	if !once {
		fmt.Fprintln(w, "Press Ctrl-C to stop.")
	}
	fmt.Fprintln(w)
}

// WriteSampleFile writes the sample CSV of rows for provider p to path.
func WriteSampleFile(path string, p jobs.Provider, rows []fakeidp.DemoRow) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fakeidp.WriteDemoCSV(fh, p, rows); err != nil {
		_ = fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return fh.Close()
}

// RandomHex returns n random bytes as hex: made-up credentials of the fakes.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomUUID returns a random version-4 UUID.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
