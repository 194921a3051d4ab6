package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

func TestWorkerServesUntilStopped(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	w.setenv("REACTIVATOR_RATE", "stytch=auto,zitadel=100")
	stop := w.startWorker("--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port))

	st := w.ingested("members.csv", 3)
	r := w.run("ingest", w.zitadelCSV("users.csv", 2))
	if r.code != exitOK {
		t.Fatalf("ingest = %s", r)
	}
	for _, id := range []string{st, strings.Fields(strings.SplitN(r.stdout, "run ", 2)[1])[0]} {
		if r := w.run("status", id, "--wait"); r.code != exitOK {
			t.Fatalf("status %s --wait = %s", id, r)
		}
	}
	for i := 1; i <= 3; i++ {
		if got := w.stytch.Status(wOrgID, stytchMember(i)); got != fakeidp.StytchActive {
			t.Errorf("member %d status = %q, want active", i, got)
		}
	}

	body := fetch(t, metricsURL)
	contains(t, "/metrics", body, `reactivator_outcomes_total{outcome="reactivated",provider="stytch"} 3`,
		`reactivator_outcomes_total{outcome="reactivated",provider="zitadel"} 2`, "asynq_", "go_goroutines")

	res := stop()
	if res.code != exitOK {
		t.Fatalf("worker after SIGTERM = %s\nwant exit 0", res)
	}
	contains(t, "worker log", res.stderr, "stytch: ok", "zitadel: ok", "worker starting", "providers=stytch,zitadel", "limit=", "shutting down", "worker stopped")
	if _, err := http.Get(metricsURL); err == nil {
		t.Errorf("GET %s after the worker stopped succeeded, want the server closed", metricsURL)
	}
}

// fetch GETs url, retrying while the server is not up yet.
func fetch(t *testing.T, url string) string {
	t.Helper()
	var lastErr error
	for range 100 {
		resp, err := http.Get(url)
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return string(b)
			}
			lastErr = fmt.Errorf("status %d, %v", resp.StatusCode, err)
		} else {
			lastErr = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return ""
}

func TestWorkerRefusesBadCredentials(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.stytch.SetSecret("secret-test-rotated-elsewhere-0123456789")
	r := w.run("worker")
	if r.code != exitFatal {
		t.Fatalf("worker with a refused secret = %s\nwant exit %d", r, exitFatal)
	}
	contains(t, "worker stderr", r.stderr, "stytch: credentials refused", "worker not started")
	if strings.Contains(r.stderr, "worker starting") {
		t.Errorf("worker started despite refused credentials:\n%s", r.stderr)
	}
	paused, err := w.store.Paused(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(paused) != 0 {
		t.Errorf("paused providers after a refused start = %v, want none: the worker must not pause the fleet", paused)
	}
}

func TestWorkerConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		want     string
	}{
		{"no credentials", nil, map[string]string{"STYTCH_PROJECT_ID": "", "STYTCH_SECRET": "", "ZITADEL_URL": "", "ZITADEL_TOKEN": ""}, exitError, "nothing to serve"},
		{"bad --rate", []string{"--rate", "stytch=fast"}, nil, exitUsage, "--rate stytch=fast"},
		{"bad REACTIVATOR_RATE", nil, map[string]string{"REACTIVATOR_RATE": "okta=5"}, exitError, "REACTIVATOR_RATE"},
		{"bad --concurrency", []string{"--concurrency", "0"}, nil, exitUsage, "--concurrency"},
		{"bad --max-row-age", []string{"--max-row-age", "-1h"}, nil, exitUsage, "--max-row-age"},
		{"no Redis", nil, map[string]string{"REDIS_URL": ""}, exitError, "set REDIS_URL"},
		{"metrics address taken", []string{"--metrics-addr", "256.0.0.1:1"}, nil, exitError, "--metrics-addr"},
		{"arguments", []string{"stytch"}, nil, exitUsage, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			for k, v := range tc.env {
				w.setenv(k, v)
			}
			r := w.run(append([]string{"worker"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("worker %v = %s\nwant exit %d and %q", tc.args, r, tc.wantCode, tc.want)
			}
		})
	}
}

func TestIngestWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		notFound []int
		wantCode int
		want     []string
	}{
		{"all reactivated", nil, exitOK, nil},
		{"some not found", []int{2}, exitSomeFailed, []string{"1 of 3 rows not reactivated", "not_found 1", "--failed-only"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			w.startWorker()
			st := w.stytchCSV("members.csv", 3, tc.notFound...)
			z := w.zitadelCSV("users.csv", 2)
			r := w.run("ingest", "--wait", st, z)
			if r.code != tc.wantCode {
				t.Fatalf("ingest --wait = %s\nwant exit %d", r, tc.wantCode)
			}
			contains(t, "ingest --wait stderr", r.stderr, append([]string{"waiting for the workers to finish 2 runs", "2 runs: 5/5 (100%)"}, tc.want...)...)
			for _, run := range w.statusJSON().Runs {
				if run.State != jobs.RunFinished {
					t.Errorf("run %s state = %s after ingest --wait, want finished", run.ID, run.State)
				}
			}
		})
	}
}

func TestIngestWaitRefusedFileStillWaits(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.startWorker()
	good := w.stytchCSV("members.csv", 2)
	bad := w.file("binary.csv", "\x00\x01\x02\x03")
	r := w.run("ingest", "--wait", good, bad)
	if r.code != exitError {
		t.Fatalf("ingest --wait with a refused file = %s\nwant exit %d", r, exitError)
	}
	contains(t, "ingest stderr", r.stderr, "refused "+bad, "1 of 2 files not ingested")
	if run := w.onlyRun(); run.State != jobs.RunFinished || run.Counts[jobs.Reactivated] != 2 {
		t.Errorf("the good file's run = state %s counts %v, want finished with 2 reactivated", run.State, run.Counts)
	}
}

func TestIngestWaitInterrupted(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 2) // no worker: the wait never ends by itself
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- w.runCtx(ctx, "ingest", "--wait", path) }()
	// Cancel once the rows are queued, so the interruption hits the wait.
	for range 200 {
		if w.rowsWaiting(jobs.Stytch) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	r := <-done
	if r.code != exitInterrupted {
		t.Fatalf("ingest --wait, interrupted = %s\nwant exit %d", r, exitInterrupted)
	}
	contains(t, "ingest stderr", r.stderr, "interrupted", "the runs go on")
	if got := w.rowsWaiting(jobs.Stytch); got != 2 {
		t.Errorf("stytch rows waiting after the interruption = %d, want 2: queued rows stay queued", got)
	}
}
