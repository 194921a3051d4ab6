package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
)

// TestRunSIGINTSendsNothingAfterIt interrupts `run --rate zitadel=5` with SIGINT while most of its
// tasks wait for the budget: no request reaches the provider after the signal, the exit is 130,
// and the same command then finishes calling every account exactly once.
func TestRunSIGINTSendsNothingAfterIt(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")

	const token, n = "zitadel-pat-binary-sigint", 120
	z := fakeidp.NewZitadel("")
	z.AddToken(token, bZOrg)
	var sb strings.Builder
	sb.WriteString("user_id\n")
	for i := 1; i <= n; i++ {
		z.AddUser(bUser(i), bZOrg, fakeidp.ZitadelInactive)
		fmt.Fprintf(&sb, "%s\n", bUser(i))
	}
	zURL, zStop := fakeidp.Serve(z)
	defer zStop()
	writeFile(t, filepath.Join(dir, "users.csv"), sb.String())
	env := binaryEnv(t, stateDir, "ZITADEL_URL="+zURL, "ZITADEL_TOKEN="+token)

	first := startBinary(t, bin, dir, env, "run", "--rate", "zitadel=5", "users.csv")
	deadline := time.Now().Add(time.Minute)
	for z.TotalCalls() < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	signalled := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	res := first.wait(t)
	exited := time.Since(signalled)
	if res.code != exitInterrupted {
		t.Fatalf("interrupted run = exit %d, want %d\n%s", res.code, exitInterrupted, res)
	}
	// 100 ms covers a request that had passed its last check when the signal came: the loopback
	// hop and a goroutine's delay between its check and its write; before the stop rule, about
	// 100 calls went out after the signal.
	if after := z.RequestsSince(signalled.Add(100 * time.Millisecond)); after != 0 {
		t.Fatalf("%d requests reached the provider after SIGINT, want 0", after)
	}
	t.Logf("requests after SIGINT: %d (any), signal to exit %s", z.RequestsSince(signalled), exited.Round(time.Millisecond))

	second := runBinary(t, bin, dir, env, "run", "users.csv")
	if second.code != exitOK {
		t.Fatalf("resumed run = exit %d, want 0\n%s", second.code, second)
	}
	for i := 1; i <= n; i++ {
		if c := z.Calls(bUser(i)); c != 1 {
			t.Errorf("user %s called %d times, want exactly 1", bUser(i), c)
		}
	}
}
