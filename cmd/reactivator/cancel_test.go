package main

import (
	"context"
	"testing"

	"reactivator/jobs"
)

func TestCancel(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.ingested("members.csv", 3) // no worker: nothing is called
	r := w.run("cancel", id)
	if r.code != exitOK {
		t.Fatalf("cancel = %s", r)
	}
	contains(t, "cancel", r.stdout, "cancelled run "+id+": 3 rows will not be called", "the run is finished: reactivator report "+id)
	run := w.runOf(id)
	if run.State != jobs.RunFinished || !run.Cancelled || run.Counts[jobs.Cancelled] != 3 {
		t.Errorf("run after cancel = state %s cancelled %v counts %v, want finished, cancelled, 3 cancelled", run.State, run.Cancelled, run.Counts)
	}
	contains(t, "status", w.run("status").stdout, "cancelled")

	r = w.run("cancel", id)
	if r.code != exitOK {
		t.Fatalf("cancel again = %s", r)
	}
	contains(t, "cancel again", r.stdout, "already finished", "cancelled 3")

	// A cancelled run is not resumed by ingesting the file again.
	r = w.run("ingest", w.stytchCSV("members.csv", 3))
	if r.code != exitError {
		t.Errorf("ingest of a cancelled run's file = %s\nwant exit %d", r, exitError)
	}
	contains(t, "ingest stderr", r.stderr, "--new-run")
}

func TestCancelLeavesRowsInFlight(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.ingested("members.csv", 3)
	// Line 3 is being called right now, as a worker's Begin marks it.
	if _, err := w.store.Begin(context.Background(), jobs.Zitadel, id, 3); err != nil {
		t.Fatal(err)
	}
	r := w.run("cancel", id)
	if r.code != exitOK {
		t.Fatalf("cancel = %s", r)
	}
	contains(t, "cancel", r.stdout, "2 rows will not be called", "1 rows are in flight: they finish with their call's outcome", "reactivator status "+id+" --wait")
	// The call in flight ends with its true outcome; that finishes the run.
	w.record(id, jobs.Cancelled, jobs.Reactivated)
	if run := w.runOf(id); run.State != jobs.RunFinished || run.Counts[jobs.Reactivated] != 1 || run.Counts[jobs.Cancelled] != 2 {
		t.Errorf("run = state %s counts %v, want finished with 1 reactivated and 2 cancelled", run.State, run.Counts)
	}
}

func TestCancelUnknownRun(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	r := w.run("cancel", "zitadel-000000000000")
	if r.code != exitError {
		t.Fatalf("cancel of an unknown run = %s\nwant exit %d", r, exitError)
	}
	contains(t, "cancel stderr", r.stderr, `no run "zitadel-000000000000"`, "`reactivator status` lists the runs")
}
