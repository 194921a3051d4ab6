// This file tests Cancel against a private redis-server: what becomes of a run's rows, what it
// says, and what it refuses (an unknown or ambiguous run: exit 1; a finished run is left alone).

package control

import (
	"errors"
	"strings"
	"testing"

	"reactivator/internal/exitcode"
	"reactivator/jobs"
)

// contains fails t unless out holds every want.
func contains(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(out, s) {
			t.Errorf("%s = %q, want it to contain %q", what, out, s)
		}
	}
}

// outcomeOf returns the outcome of a line, "" when it has none.
func (w *world) outcomeOf(id string, line int) jobs.Outcome {
	w.t.Helper()
	o, ok, err := w.store.Outcome(w.ctx, id, line)
	if err != nil {
		w.t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return o.Outcome
}

// A queued run with a row in flight: the rows not called end cancelled, the row in flight keeps
// no outcome until its call ends, and its true outcome finishes the run.
func TestCancelEndsRowsNotCalledAndLeavesRowsInFlight(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const id = "zitadel-5a1e0c2b9d7f"
	w.newRun(id, lines(3), true)
	if _, err := w.store.Begin(w.ctx, jobs.Zitadel, id, 3); err != nil { // line 3 is being called
		t.Fatal(err)
	}

	var out strings.Builder
	if err := Cancel(w.ctx, w.store, id, &out); err != nil {
		t.Fatalf("Cancel = %v", err)
	}
	contains(t, "Cancel", out.String(), "cancelled run "+id+": 2 rows will not be called (outcome cancelled)",
		"1 rows are in flight: they finish with their call's outcome", "reactivator status "+id+" --wait")
	run := w.runOf(id)
	if !run.Cancelled || run.State == jobs.RunFinished || run.Counts[jobs.Cancelled] != 2 || run.Pending() != 1 {
		t.Errorf("run after Cancel = cancelled %v state %s counts %v pending %d; want cancelled, unfinished, 2 cancelled, 1 pending",
			run.Cancelled, run.State, run.Counts, run.Pending())
	}
	for line, want := range map[int]jobs.Outcome{2: jobs.Cancelled, 3: "", 4: jobs.Cancelled} {
		if got := w.outcomeOf(id, line); got != want {
			t.Errorf("line %d after Cancel = %q, want %q", line, got, want)
		}
	}

	w.record(id, 3, jobs.Reactivated)
	if run := w.runOf(id); run.State != jobs.RunFinished || run.Counts[jobs.Reactivated] != 1 || run.Counts[jobs.Cancelled] != 2 {
		t.Errorf("run after the call in flight ended = state %s counts %v, want finished, 1 reactivated, 2 cancelled", run.State, run.Counts)
	}
}

// Rows that have their outcome keep it; Cancel ends the rest, which finishes the run.
func TestCancelKeepsOutcomesAndFinishesTheRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const id = "zitadel-0b7d3e5f1a2c"
	rows := append(lines(2), row(4), jobs.IngestRow{Row: jobs.Row{Line: 5, Provider: jobs.Zitadel}, Input: []string{"", "", ""}, Invalid: "user_id: is empty"})
	rows[2].Row.UserID, rows[2].Input = rows[0].Row.UserID, rows[0].Input // line 4 repeats line 2
	w.newRun(id, rows, true)
	w.record(id, 2, jobs.Reactivated)

	var out strings.Builder
	if err := Cancel(w.ctx, w.store, id, &out); err != nil {
		t.Fatalf("Cancel = %v", err)
	}
	contains(t, "Cancel", out.String(), "cancelled run "+id+": 1 rows will not be called", "the run is finished: reactivator report "+id)
	run := w.runOf(id)
	want := map[jobs.Outcome]int{jobs.Reactivated: 1, jobs.Cancelled: 1, jobs.Duplicate: 1, jobs.Invalid: 1}
	if run.State != jobs.RunFinished || !run.Cancelled || len(run.Counts) != len(want) {
		t.Fatalf("run after Cancel = state %s cancelled %v counts %v, want finished, cancelled, %v", run.State, run.Cancelled, run.Counts, want)
	}
	for o, n := range want {
		if run.Counts[o] != n {
			t.Errorf("run after Cancel counts %v, want %v", run.Counts, want)
		}
	}
	if got := w.outcomeOf(id, 2); got != jobs.Reactivated {
		t.Errorf("line 2 after Cancel = %q, want it to keep reactivated", got)
	}
}

// A run still being ingested: its rows so far end cancelled, and so do the rows ingested after.
func TestCancelWhileIngesting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const id = "zitadel-9c4f2a6b8e1d"
	w.newRun(id, lines(2), false)

	var out strings.Builder
	if err := Cancel(w.ctx, w.store, id, &out); err != nil {
		t.Fatalf("Cancel = %v", err)
	}
	contains(t, "Cancel", out.String(), "cancelled run "+id+": 2 rows will not be called",
		"the run is still being ingested: rows queued from now on end as cancelled too")

	// The ingestion goes on: line 4 arrives, and a worker reaching it calls nothing.
	if _, err := w.store.AddRows(w.ctx, id, []jobs.IngestRow{row(4)}); err != nil {
		t.Fatal(err)
	}
	a, err := w.store.Begin(w.ctx, jobs.Zitadel, id, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Cancelled || !a.Done {
		t.Errorf("Begin of a row ingested after Cancel = %+v, want it cancelled, not called", a)
	}
	if _, err := w.store.SetTotal(w.ctx, id, 3); err != nil {
		t.Fatal(err)
	}
	if run := w.runOf(id); run.State != jobs.RunFinished || run.Counts[jobs.Cancelled] != 3 {
		t.Errorf("run after ingest ended = state %s counts %v, want finished with 3 cancelled", run.State, run.Counts)
	}
}

// A finished run is left as it is: nothing is written, and it is not an error (exit 0).
func TestCancelLeavesAFinishedRunAsItIs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const id = "zitadel-3d8a1f0e6c2b"
	w.newRun(id, lines(2), true)
	w.record(id, 2, jobs.Reactivated)
	w.record(id, 3, jobs.NotFound)
	before := w.snapshot(id)

	var out strings.Builder
	err := Cancel(w.ctx, w.store, id, &out)
	if err != nil || exitcode.Of(w.ctx, err) != exitcode.OK {
		t.Fatalf("Cancel of a finished run = %v, want nil (exit 0)", err)
	}
	contains(t, "Cancel", out.String(), "run "+id+" is already finished", "nothing to cancel")
	if strings.Contains(out.String(), "cancelled run") {
		t.Errorf("Cancel of a finished run says %q, want it to cancel nothing", out.String())
	}
	sameKeys(t, "keys of the finished run after Cancel", before, w.snapshot(id))
	if run := w.runOf(id); run.Cancelled {
		t.Errorf("finished run after Cancel is marked cancelled")
	}
}

// Cancel takes a unique prefix of a run's id and cancels that run only; an ambiguous prefix and
// an unknown run are errors (exit 1) that cancel nothing and create no key.
func TestCancelResolvesTheRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const a, b = "zitadel-7e2c11aa0001", "zitadel-7e2c22bb0002"
	w.newRun(a, lines(1), true)
	w.newRun(b, lines(1), true)
	snapA, snapB := w.snapshot(a), w.snapshot(b)

	var out strings.Builder
	err := Cancel(w.ctx, w.store, "zitadel-7e2c", &out)
	var amb *jobs.AmbiguousRunError
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 || amb.Candidates[0] != a || amb.Candidates[1] != b {
		t.Errorf("Cancel(ambiguous prefix) = %v, want a *jobs.AmbiguousRunError naming %s and %s", err, a, b)
	}
	if code := exitcode.Of(w.ctx, err); code != exitcode.Error {
		t.Errorf("exit code of an ambiguous prefix = %d, want %d", code, exitcode.Error)
	}

	const unknown = "zitadel-000000000000"
	err = Cancel(w.ctx, w.store, unknown, &out)
	if err == nil || exitcode.Of(w.ctx, err) != exitcode.Error {
		t.Errorf("Cancel(unknown run) = %v (exit %d), want an error, exit %d", err, exitcode.Of(w.ctx, err), exitcode.Error)
	} else {
		contains(t, "Cancel(unknown run) error", err.Error(), `no run "`+unknown+`"`, "`reactivator status` lists the runs")
	}
	if ks := w.keysNaming(unknown); len(ks) != 0 {
		t.Errorf("Cancel of an unknown run left keys %v", ks)
	}
	if out.Len() != 0 {
		t.Errorf("refused Cancels wrote %q, want nothing", out.String())
	}
	sameKeys(t, "run "+a+" after refused Cancels", snapA, w.snapshot(a))
	sameKeys(t, "run "+b+" after refused Cancels", snapB, w.snapshot(b))

	if err := Cancel(w.ctx, w.store, "zitadel-7e2c22", &out); err != nil {
		t.Fatalf("Cancel(unique prefix) = %v", err)
	}
	contains(t, "Cancel(unique prefix)", out.String(), "cancelled run "+b+": 1 rows")
	if run := w.runOf(b); !run.Cancelled || run.Counts[jobs.Cancelled] != 1 {
		t.Errorf("run %s after Cancel = cancelled %v counts %v, want cancelled, 1 cancelled", b, run.Cancelled, run.Counts)
	}
	sameKeys(t, "run "+a+" after Cancel of "+b, snapA, w.snapshot(a))
}
