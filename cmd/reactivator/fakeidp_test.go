package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/redistest"
)

func TestFakeidpServesSeededAccountsAndWritesSamples(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	var addrs [3]string
	for i := range addrs {
		port, err := redistest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	inbox := filepath.Join(w.dir, "inbox")
	if err := os.Mkdir(inbox, 0o750); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(w.dir, "creds")
	if err := os.Mkdir(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	fake := w.start("fakeidp", "--stytch-addr", addrs[0], "--zitadel-addr", addrs[1], "--members", "5", "--users", "4",
		"--latency", "0s", "--error-rate", "0", "--write-csv", inbox, "--credentials-dir", creds)
	waitFor(t, "the sample files", func() bool { return len(listDir(t, inbox)) == 2 })
	if got := listDir(t, creds); strings.Join(got, ",") != "stytch-secret,zitadel-token" {
		t.Fatalf("credentials dir = %v, want [stytch-secret zitadel-token]", got)
	}
	if got := listDir(t, inbox); strings.Join(got, ",") != "stytch-demo.csv,zitadel-demo.csv" {
		t.Fatalf("inbox = %v, want [stytch-demo.csv zitadel-demo.csv] and no temporary file", got)
	}
	if r := w.run("fakeidp", "--probe", "--stytch-addr", addrs[0], "--zitadel-addr", addrs[1]); r.code != exitOK {
		t.Fatalf("fakeidp --probe = %s", r)
	}
	if r := w.run("fakeidp", "--probe", "--stytch-addr", addrs[2], "--zitadel-addr", addrs[1]); r.code != exitError {
		t.Errorf("fakeidp --probe of a closed port = %s\nwant exit 1", r)
	}

	// A worker's settings pointed at the fakes pass the credentials check, and the sample files
	// run to the end with the seeded outcomes.
	w.setenv("STYTCH_SECRET_FILE", filepath.Join(creds, "stytch-secret"))
	w.setenv("ZITADEL_TOKEN_FILE", filepath.Join(creds, "zitadel-token"))
	w.setenv("STYTCH_BASE_URL", "http://"+addrs[0])
	w.setenv("ZITADEL_URL", "http://"+addrs[1])
	if r := w.run("check"); r.code != exitOK {
		t.Fatalf("check against the fakes = %s", r)
	}
	stop := w.startWorker()
	for _, f := range []string{"stytch-demo.csv", "zitadel-demo.csv"} {
		r := w.run("ingest", "--wait", filepath.Join(inbox, f))
		// The samples hold rows meant to fail (not found, unverified email, invalid): exit 3.
		if r.code != exitSomeFailed || !strings.Contains(r.stderr, "reactivated ") {
			t.Errorf("ingest --wait %s = %s\nwant exit 3 with reactivated rows", f, r)
		}
	}
	stop()
	if res := fake.stop(); res.code != exitOK {
		t.Errorf("fakeidp after stop = %s\nwant exit 0", res)
	}
}

func TestFakeidpNeedsTestCredentials(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.setenv("STYTCH_PROJECT_ID", "project-live-11111111-2222-4333-8444-555555555555")
	if r := w.run("fakeidp", "--stytch-addr", "127.0.0.1:0", "--zitadel-addr", "127.0.0.1:0"); r.code != exitError || !strings.Contains(r.stderr, "project-test-") {
		t.Errorf("fakeidp with a live project id = %s\nwant exit 1 asking for a project-test- id", r)
	}
}
