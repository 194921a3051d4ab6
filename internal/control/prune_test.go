// This file tests Prune against a private redis-server: a finished run older than the cutoff
// leaves no key naming it, a run that is not finished is never touched however old, a younger
// run stays, and a dry run deletes nothing.

package control

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"reactivator/internal/status"
	"reactivator/jobs"
)

const (
	oldDone  = "zitadel-0ld0d0e00001" // finished nine days in, pruned
	oldOpen  = "zitadel-0ld0pe000002" // as old, never finished: kept
	youngRun = "zitadel-y0un90000003" // finished 39 days in: kept
)

// seedPrune makes the three runs above, each of three rows with their asynq tasks queued. Of
// oldDone's tasks, the first is archived (a permanent failure) and the others stay pending (the
// run was cancelled before they ran), so its pruning has tasks to delete.
func (w *world) seedPrune() {
	w.t.Helper()
	rows := lines(3)
	w.at(t0)
	for _, id := range []string{oldDone, oldOpen} {
		w.newRun(id, rows, true)
		w.enqueue(id, rows)
	}
	w.at(oldFinished)
	w.record(oldDone, 2, jobs.NotFound)
	if err := w.insp.ArchiveTask(jobs.Zitadel.Queue(), jobs.TaskID(oldDone, rows[0].Row)); err != nil {
		w.t.Fatal(err)
	}
	if _, _, err := w.store.Cancel(w.ctx, oldDone); err != nil {
		w.t.Fatal(err)
	}
	w.record(oldOpen, 2, jobs.Reactivated)
	w.record(oldOpen, 3, jobs.Reactivated) // line 4 never ends
	w.at(t0.Add(39 * 24 * time.Hour))
	w.newRun(youngRun, rows, true)
	for _, r := range rows {
		w.record(youngRun, r.Row.Line, jobs.Reactivated)
	}
	for id, fin := range map[string]bool{oldDone: true, oldOpen: false, youngRun: true} {
		if got := w.runOf(id).State == jobs.RunFinished; got != fin {
			w.t.Fatalf("seeded run %s finished = %v, want %v", id, got, fin)
		}
	}
}

// oldFinished is when oldDone finished, a day before the cutoff of pruneAt.
var oldFinished = t0.Add(9 * 24 * time.Hour)

// pruneAt is the request of prune --older-than 30d at t0 + 40 days: the cutoff is t0 + 10 days.
var pruneAt = PruneRequest{OlderThan: 30 * 24 * time.Hour, Now: t0.Add(40 * 24 * time.Hour)}

func TestPruneDeletesOldFinishedRunsOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.seedPrune()
	// The run's own keys, and its three tasks (one archived, two pending).
	ownKeys := len(w.keysNaming("reactivator:{" + oldDone + "}:"))
	if tasks := w.taskIDs(jobs.Zitadel.Queue(), oldDone); ownKeys == 0 || len(tasks) != 3 {
		t.Fatalf("before Prune: %d keys of %s and tasks %v, want its keys and 3 tasks", ownKeys, oldDone, tasks)
	}
	keep := map[string]map[string]string{oldOpen: w.snapshot(oldOpen), youngRun: w.snapshot(youngRun)}
	if len(w.taskIDs(jobs.Zitadel.Queue(), oldOpen)) != 3 {
		t.Fatalf("before Prune: run %s has not its 3 tasks", oldOpen)
	}

	q := pruneAt
	q.JSON = true
	var out strings.Builder
	if err := Prune(w.ctx, w.store, q, &out); err != nil {
		t.Fatalf("Prune = %v", err)
	}
	for id, snap := range keep {
		sameKeys(t, "run "+id+" after Prune", snap, w.snapshot(id))
	}
	var doc PruneDocument
	if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
		t.Fatalf("Prune --json: %v\n%s", err, out.String())
	}
	cutoff := t0.Add(10 * 24 * time.Hour)
	if !doc.FinishedBefore.Equal(cutoff) || doc.DryRun || len(doc.Runs) != 1 || doc.Runs[0].ID != oldDone || len(doc.Skipped) != 0 {
		t.Fatalf("Prune --json = %s\nwant finished_before %s and run %s only", out.String(), cutoff, oldDone)
	}
	if doc.Keys != ownKeys || doc.Tasks != 3 || doc.Runs[0].Keys != ownKeys || doc.Runs[0].Tasks != 3 {
		t.Errorf("Prune --json counts %d keys, %d tasks; want the run's %d keys and 3 tasks", doc.Keys, doc.Tasks, ownKeys)
	}

	if ks := w.keysNaming(oldDone); len(ks) != 0 {
		t.Errorf("keys naming the pruned run %s are left: %v", oldDone, ks)
	}
	if ids := w.taskIDs(jobs.Zitadel.Queue(), oldDone); len(ids) != 0 {
		t.Errorf("tasks of the pruned run %s are left: %v", oldDone, ids)
	}
	if _, err := w.store.ResolveRun(w.ctx, oldDone); err == nil {
		t.Errorf("the pruned run %s still resolves", oldDone)
	}

	// Again: nothing is left to go.
	out.Reset()
	q.JSON = false
	if err := Prune(w.ctx, w.store, q, &out); err != nil {
		t.Fatalf("Prune again = %v", err)
	}
	if want := "pruned 0 runs finished before " + cutoff.Local().Format(time.RFC3339) + ": 0 keys, 0 asynq tasks\n"; out.String() != want {
		t.Errorf("Prune again = %q, want %q", out.String(), want)
	}
}

// A dry run finds what Prune would delete, says so, and deletes nothing.
func TestPruneDryRunDeletesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.seedPrune()
	before := map[string]map[string]string{}
	for _, id := range []string{oldDone, oldOpen, youngRun} {
		before[id] = w.snapshot(id)
	}
	ownKeys := len(w.keysNaming("reactivator:{" + oldDone + "}:"))

	q := pruneAt
	q.DryRun = true
	var out strings.Builder
	if err := Prune(w.ctx, w.store, q, &out); err != nil {
		t.Fatalf("Prune(dry run) = %v", err)
	}
	cutoff := t0.Add(10 * 24 * time.Hour)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	head := "would prune 1 runs finished before " + cutoff.Local().Format(time.RFC3339) + ": " +
		strconv.Itoa(ownKeys) + " keys, 3 asynq tasks"
	if len(got) != 3 || got[0] != head || strings.Fields(got[1])[0] != "RUN" {
		t.Fatalf("Prune(dry run) =\n%s\nwant %q and a table of one run", out.String(), head)
	}
	if f := strings.Fields(got[2]); len(f) != 7 || f[0] != oldDone || f[1] != "zitadel" || f[2] != oldDone+".csv" ||
		f[3]+" "+f[4] != status.TimeText(oldFinished) || f[5] != strconv.Itoa(ownKeys) || f[6] != "3" {
		t.Errorf("Prune(dry run) table row = %q, want %s, zitadel, its file, finished %s, %d keys, 3 tasks",
			got[2], oldDone, status.TimeText(oldFinished), ownKeys)
	}
	for id, snap := range before {
		sameKeys(t, "run "+id+" after a dry run", snap, w.snapshot(id))
	}
}

// A run finished exactly at the cutoff is not finished before it: it stays, and goes a
// millisecond later.
func TestPruneCutoffIsStrict(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const id = "zitadel-ed9e00000004"
	w.newRun(id, lines(1), true)
	fin := t0.Add(time.Hour)
	w.at(fin)
	w.record(id, 2, jobs.Reactivated)
	if got := w.runOf(id).FinishedAt; !got.Equal(fin) {
		t.Fatalf("run finished at %s, want %s", got, fin)
	}

	var out strings.Builder
	q := PruneRequest{OlderThan: 24 * time.Hour, Now: fin.Add(24 * time.Hour)}
	if err := Prune(w.ctx, w.store, q, &out); err != nil {
		t.Fatal(err)
	}
	contains(t, "Prune at the cutoff", out.String(), "pruned 0 runs")
	if len(w.keysNaming(id)) == 0 {
		t.Fatalf("Prune deleted a run finished at the cutoff")
	}
	q.Now = q.Now.Add(time.Millisecond)
	out.Reset()
	if err := Prune(w.ctx, w.store, q, &out); err != nil {
		t.Fatal(err)
	}
	contains(t, "Prune past the cutoff", out.String(), "pruned 1 runs", id)
	if ks := w.keysNaming(id); len(ks) != 0 {
		t.Errorf("keys of the pruned run left: %v", ks)
	}
}

// A zero Now counts the age from the present: a run finished in the seeded past goes, one
// finished far in the future stays.
func TestPruneZeroNowIsThePresent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const past, future = "zitadel-9a5700000005", "zitadel-f07e00000006"
	w.newRun(past, lines(1), true)
	w.record(past, 2, jobs.Reactivated)
	w.at(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC))
	w.newRun(future, lines(1), true)
	w.record(future, 2, jobs.Reactivated)
	snap := w.snapshot(future)

	var out strings.Builder
	if err := Prune(w.ctx, w.store, PruneRequest{OlderThan: time.Hour, JSON: true}, &out); err != nil {
		t.Fatal(err)
	}
	var doc PruneDocument
	if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 || doc.Runs[0].ID != past {
		t.Errorf("Prune(zero Now) runs = %+v, want %s only", doc.Runs, past)
	}
	if ks := w.keysNaming(past); len(ks) != 0 {
		t.Errorf("keys of the pruned run left: %v", ks)
	}
	sameKeys(t, "run finished in the future", snap, w.snapshot(future))
}
