package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"reactivator/jobs"
)

// ingested ingests a Stytch file of n rows and returns its run id.
func (w *cliWorld) ingested(name string, n int) string {
	w.t.Helper()
	r := w.run("ingest", w.stytchCSV(name, n))
	if r.code != exitOK {
		w.t.Fatalf("ingest = %s", r)
	}
	runs, err := w.store.Runs(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, run := range runs {
		if run.File == name {
			return run.ID
		}
	}
	w.t.Fatalf("no run of %s after ingest", name)
	return ""
}

// record gives rows 2.. of a run the outcomes, as a worker would.
func (w *cliWorld) record(runID string, outcomes ...jobs.Outcome) {
	w.t.Helper()
	for i, o := range outcomes {
		if _, _, err := w.store.Record(context.Background(), runID, i+2, jobs.OutcomeRecord{Outcome: o, Attempts: 1, FinishedAt: time.Now()}); err != nil {
			w.t.Fatal(err)
		}
	}
}

func TestStatusWithoutRuns(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	r := w.run("status")
	if r.code != exitOK || !strings.Contains(r.stdout, "no runs yet") {
		t.Errorf("status = %s\nwant exit 0 and 'no runs yet'", r)
	}
	v := w.statusJSON()
	if len(v.Runs) != 0 || v.Paused == nil {
		t.Errorf("status --json = %+v, want no runs and an empty (not null) paused list", v)
	}
}

func TestStatusTableAndDetail(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.ingested("members.csv", 3)
	w.record(id, jobs.Reactivated, jobs.NotFound)

	r := w.run("status")
	if r.code != exitOK {
		t.Fatalf("status = %s", r)
	}
	contains(t, "status", r.stdout, "RUN", "DONE/TOTAL", id, "stytch", "members.csv", "running", "2/3", "reactivated 1, not_found 1")

	r = w.run("status", id)
	if r.code != exitOK {
		t.Fatalf("status %s = %s", id, r)
	}
	contains(t, "status RUN", r.stdout, "run ", id, "2/3 (66%), 1 pending", "not_found", jobs.NotFound.Advice(), "reactivator status "+id+" --watch")

	w.record(id, jobs.Reactivated, jobs.NotFound, jobs.Rejected)
	r = w.run("status", id)
	contains(t, "status of a finished run", r.stdout, "finished", "reactivator report "+id+" --failed-only")
	v := w.statusJSON(id)
	if len(v.Runs) != 1 || v.Runs[0].State != jobs.RunFinished || v.Runs[0].Failures != 2 || v.Runs[0].Counts[jobs.Rejected] != 1 {
		t.Errorf("status --json %s = %+v, want the finished run with 2 failures", id, v)
	}
}

func TestStatusUnknownRun(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	r := w.run("status", "stytch-000000000000")
	if r.code != exitError {
		t.Fatalf("status of an unknown run = %s\nwant exit %d", r, exitError)
	}
	contains(t, "status stderr", r.stderr, `no run "stytch-000000000000"`, "`reactivator status` lists the runs")
}

// TestStatusWithoutRedis: without REDIS_URL, status opens run's embedded store (design: a
// one-shot run stays visible), here an empty one; it never needs a shared Redis.
func TestStatusWithoutRedis(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.setenv("REDIS_URL", "")
	w.setenv("REACTIVATOR_STATE_DIR", t.TempDir())
	r := w.run("status")
	if r.code != exitOK || !strings.Contains(r.stdout, "no runs yet") || !strings.Contains(r.stderr, "redis") {
		t.Errorf("status without REDIS_URL = %s\nwant exit 0, the embedded store said on stderr, and no runs", r)
	}
}

func TestStatusWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		outcomes []jobs.Outcome
		pause    bool
		wantCode int
		want     string
	}{
		{"all reactivated", []jobs.Outcome{jobs.Reactivated, jobs.Reactivated}, false, exitOK, ""},
		{"some not", []jobs.Outcome{jobs.Reactivated, jobs.UnverifiedEmail}, false, exitSomeFailed, "1 of 2 rows not reactivated"},
		{"paused", []jobs.Outcome{jobs.Reactivated}, true, exitFatal, "reactivator resume stytch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			id := w.ingested("members.csv", 2)
			w.record(id, tc.outcomes...)
			if tc.pause {
				err := w.store.SetPaused(context.Background(), jobs.Pause{Provider: jobs.Stytch, Reason: "HTTP 401 unauthorized_credentials: Unauthorized credentials.", RunID: id, Line: 3})
				if err != nil {
					t.Fatal(err)
				}
			}
			r := w.run("status", id, "--wait")
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("status RUN --wait = %s\nwant exit %d and %q", r, tc.wantCode, tc.want)
			}
			// Without RUN, --wait is about the runs in progress.
			r = w.run("status", "--wait")
			wantCode, want := exitOK, "no run in progress"
			if tc.pause {
				wantCode, want = exitFatal, "reactivator resume stytch"
			}
			if r.code != wantCode || !strings.Contains(r.stderr, want) {
				t.Errorf("status --wait = %s\nwant exit %d and %q", r, wantCode, want)
			}
		})
	}
}

func TestStatusWaitInterrupted(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.ingested("members.csv", 2) // no worker: the run never finishes
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	r := w.runCtx(ctx, "status", id, "--wait")
	if r.code != exitInterrupted {
		t.Errorf("status --wait, interrupted = %s\nwant exit %d", r, exitInterrupted)
	}
}

func TestStatusWatchFinishedRun(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.ingested("members.csv", 1)
	w.record(id, jobs.Reactivated)
	r := w.run("status", id, "--watch")
	if r.code != exitOK {
		t.Fatalf("status --watch of a finished run = %s", r)
	}
	contains(t, "status --watch", r.stdout, id, "finished")
	r = w.run("status", "--watch", "--json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"state": "finished"`) {
		t.Errorf("status --watch --json with nothing in progress = %s\nwant exit 0 and the finished run", r)
	}
}
