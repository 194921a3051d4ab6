package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"reactivator/jobs"
)

func TestPrune(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	done := w.ingested("members.csv", 3) // cancelled below: finished; no worker ran, so no task
	open := w.ingested("others.csv", 2)  // never finished
	if r := w.run("cancel", done); r.code != exitOK {
		t.Fatalf("cancel = %s", r)
	}
	keysOf := func(id string) int {
		n := 0
		iter := w.redis.Scan(context.Background(), 0, "*", 1000).Iterator()
		for iter.Next(context.Background()) {
			if strings.Contains(iter.Val(), id) {
				n++
			}
		}
		return n
	}
	openKeys := keysOf(open)

	// The default keeps runs for 30 days: nothing goes.
	r := w.run("prune")
	if r.code != exitOK {
		t.Fatalf("prune = %s", r)
	}
	contains(t, "prune", r.stdout, "pruned 0 runs")

	r = w.run("prune", "--older-than", "0", "--dry-run")
	if r.code != exitOK {
		t.Fatalf("prune --dry-run = %s", r)
	}
	contains(t, "prune --dry-run", r.stdout, "would prune 1 runs", done, "members.csv")
	if n := keysOf(done); n == 0 {
		t.Fatalf("a dry run deleted the run's keys")
	}

	r = w.run("prune", "--older-than", "0s", "--json")
	if r.code != exitOK {
		t.Fatalf("prune --json = %s", r)
	}
	var res jobs.PruneResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("prune --json: %v\n%s", err, r.stdout)
	}
	if len(res.Runs) != 1 || res.Runs[0].ID != done || res.Tasks != 0 || res.Keys == 0 {
		t.Errorf("prune --json = %+v, want run %s with its keys and no task (ingest queues none: the workers' window does)", res, done)
	}
	if n := keysOf(done); n != 0 {
		t.Errorf("%d keys of the pruned run left", n)
	}
	if n := keysOf(open); n != openKeys {
		t.Errorf("the unfinished run has %d keys after prune, had %d", n, openKeys)
	}
	if r := w.run("status", done); r.code != exitError {
		t.Errorf("status of a pruned run = %s, want exit %d", r, exitError)
	}

	if r := w.run("prune", "--older-than", "soon"); r.code != exitUsage {
		t.Errorf("prune --older-than soon = %s, want exit %d", r, exitUsage)
	}
}

// status shows the newest runs and every run in progress, and says when it left runs out.
func TestStatusLimit(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	ctx := context.Background()
	mk := func(id string, finish bool) {
		if _, _, err := w.store.CreateRun(ctx, jobs.Run{ID: id, Provider: jobs.Zitadel, File: id + ".csv"}); err != nil {
			t.Fatal(err)
		}
		row := jobs.IngestRow{Row: jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: "100"}, Input: []string{"", "", "100"}}
		if _, err := w.store.AddRows(ctx, id, []jobs.IngestRow{row}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.SetTotal(ctx, id, 1); err != nil {
			t.Fatal(err)
		}
		if finish {
			if _, _, err := w.store.Record(ctx, id, 2, jobs.OutcomeRecord{Outcome: jobs.Reactivated}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	mk("zitadel-old-open", false)
	mk("zitadel-old-done", true)
	mk("zitadel-mid-done", true)
	mk("zitadel-new-done", true)
	mk("zitadel-newest", true)

	r := w.run("status", "--limit", "2")
	if r.code != exitOK {
		t.Fatalf("status --limit 2 = %s", r)
	}
	contains(t, "status --limit 2", r.stdout, "zitadel-newest", "zitadel-new-done", "zitadel-old-open", "--all")
	for _, id := range []string{"zitadel-old-done", "zitadel-mid-done"} {
		if strings.Contains(r.stdout, id) {
			t.Errorf("status --limit 2 shows %s, an older finished run", id)
		}
	}
	r = w.run("status", "--all", "--json")
	if r.code != exitOK {
		t.Fatalf("status --all = %s", r)
	}
	var v struct {
		Runs []struct{ ID string }
		More bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || len(v.Runs) != 5 || v.More {
		t.Errorf("status --all --json = %d runs, more %v, %v; want 5, false", len(v.Runs), v.More, err)
	}
	if r := w.run("status", "--limit", "0"); r.code != exitUsage {
		t.Errorf("status --limit 0 = %s, want exit %d", r, exitUsage)
	}
}
