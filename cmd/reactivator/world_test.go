// This file builds the world the command tests run in: a private Redis database, fake Stytch and
// ZITADEL servers, the environment that points at them, and run() with buffers.

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/fakeidp"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

const (
	wProjectID = "project-test-11111111-2222-4333-8444-555555555555"
	wSecret    = "secret-test-Zq8vN3kLp0sW7xYc2bR5tU9mA4dE6fG1hJ=" // must never be printed
	wToken     = "zitadel-pat-Xk2L9pQ7vN4mR8sT1wY6zB3cD5fG0hJ"     // must never be printed
	wOrgID     = "organization-test-00000000-0000-4000-8000-000000000001"
	wZOrg      = "200000000000000001"
)

// cliWorld is one test's world. Its env points run() at the world's Redis and fakes.
type cliWorld struct {
	t       *testing.T
	dir     string
	env     map[string]string
	envMu   sync.Mutex
	redis   *redis.Client
	opt     asynq.RedisClientOpt
	store   *jobs.Store
	stytch  *fakeidp.Stytch
	zitadel *fakeidp.Zitadel
	secrets []string
}

func newCLIWorld(t *testing.T) *cliWorld {
	t.Helper()
	srv := redistest.Shared(t)
	db := srv.NextDB()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: db})
	t.Cleanup(func() { _ = rdb.Close() })

	st := fakeidp.NewStytch(wProjectID, wSecret)
	st.AddOrg(wOrgID, "acme")
	stURL, stStop := fakeidp.Serve(st)
	t.Cleanup(stStop)

	z := fakeidp.NewZitadel("")
	z.AddToken(wToken, wZOrg)
	zURL, zStop := fakeidp.Serve(z)
	t.Cleanup(zStop)

	return &cliWorld{
		t: t, dir: t.TempDir(), redis: rdb, opt: asynq.RedisClientOpt{Addr: srv.Addr, DB: db},
		store: jobs.NewStore(rdb), stytch: st, zitadel: z, secrets: []string{wSecret, wToken},
		env: map[string]string{
			"REDIS_URL":         srv.URL(db),
			"STYTCH_PROJECT_ID": wProjectID,
			"STYTCH_SECRET":     wSecret,
			"STYTCH_BASE_URL":   stURL,
			"ZITADEL_URL":       zURL,
			"ZITADEL_TOKEN":     wToken,
		},
	}
}

// setenv changes (or, with "", removes) a variable of the world's environment.
func (w *cliWorld) setenv(k, v string) {
	w.envMu.Lock()
	defer w.envMu.Unlock()
	if v == "" {
		delete(w.env, k)
		return
	}
	w.env[k] = v
}

func (w *cliWorld) getenv(k string) string {
	w.envMu.Lock()
	defer w.envMu.Unlock()
	return w.env[k]
}

// result is what one run() did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs one command line in-process and checks that no secret reached its output.
func (w *cliWorld) run(args ...string) result {
	w.t.Helper()
	return w.runCtx(context.Background(), args...)
}

func (w *cliWorld) runCtx(ctx context.Context, args ...string) result {
	w.t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, append([]string{"--log-format", "text"}, args...), w.getenv, strings.NewReader(""), &stdout, &stderr)
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	w.assertNoSecret(r.stdout, r.stderr)
	return r
}

// assertNoSecret fails the test when any secret of the world appears in any of outs.
func (w *cliWorld) assertNoSecret(outs ...string) {
	w.t.Helper()
	for _, out := range outs {
		for _, s := range w.secrets {
			if strings.Contains(out, s) {
				w.t.Errorf("output leaks a secret %q:\n%s", s[:8]+"…", out)
			}
		}
	}
}

// file writes a file into the test's directory and returns its path.
func (w *cliWorld) file(name, content string) string {
	w.t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// stytchMember is the i-th member id of the world's Stytch org.
func stytchMember(i int) string { return fmt.Sprintf("member-test-00000000-0000-4000-8000-%012d", i) }

// stytchCSV writes a Stytch CSV of n deleted members with verified emails (reactivatable) and
// returns its path; members listed in notFound are left out of the fake (not_found).
func (w *cliWorld) stytchCSV(name string, n int, notFound ...int) string {
	w.t.Helper()
	skip := map[int]bool{}
	for _, i := range notFound {
		skip[i] = true
	}
	var sb strings.Builder
	sb.WriteString("organization_id,member_id,email\n")
	for i := 1; i <= n; i++ {
		if !skip[i] {
			w.stytch.AddMember(wOrgID, stytchMember(i), fakeidp.StytchDeleted, true)
		}
		fmt.Fprintf(&sb, "%s,%s,m%d@example.com\n", wOrgID, stytchMember(i), i)
	}
	return w.file(name, sb.String())
}

// zitadelCSV writes a ZITADEL CSV of n inactive users and returns its path.
func (w *cliWorld) zitadelCSV(name string, n int) string {
	w.t.Helper()
	var sb strings.Builder
	sb.WriteString("user_id;email\n")
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("3000000000000%05d", i)
		w.zitadel.AddUser(id, wZOrg, fakeidp.ZitadelInactive)
		fmt.Fprintf(&sb, "%s;u%d@example.com\n", id, i)
	}
	return w.file(name, sb.String())
}

// startWorker runs `reactivator worker` in the background until the returned stop is called (or
// the test ends), and returns stop, which waits for its exit and returns its result.
func (w *cliWorld) startWorker(args ...string) (stop func() result) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- w.runCtx(ctx, append([]string{"worker", "--shutdown-timeout", "5s", "--concurrency", "10"}, args...)...)
	}()
	var once sync.Once
	var res result
	stop = func() result {
		once.Do(func() {
			cancel()
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				w.t.Errorf("worker did not stop within 30s of its context's end")
			}
		})
		return res
	}
	w.t.Cleanup(func() { stop() })
	// Wait until the worker is serving (its asynq server sent a heartbeat): its credentials
	// check is behind it, so a test may now break the credentials to hit a running worker.
	insp := asynq.NewInspector(w.opt)
	defer insp.Close()
	for {
		select {
		case r := <-done:
			w.t.Fatalf("worker exited before serving: %s", r)
		default:
		}
		if servers, err := insp.Servers(); err == nil && len(servers) > 0 {
			return stop
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runOf returns the run of that id from the store.
func (w *cliWorld) runOf(id string) jobs.Run {
	w.t.Helper()
	r, err := w.store.Run(context.Background(), id)
	if err != nil {
		w.t.Fatalf("store.Run(%s) = %v", id, err)
	}
	return r
}

// onlyRun returns the world's only run.
func (w *cliWorld) onlyRun() jobs.Run {
	w.t.Helper()
	runs, err := w.store.Runs(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	if len(runs) != 1 {
		w.t.Fatalf("store.Runs() = %d runs, want 1", len(runs))
	}
	return runs[0]
}
