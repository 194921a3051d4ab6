package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"reactivator/jobs"
)

func TestPrune(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	done := w.ingested("members.csv", 3) // cancelled below: finished, its tasks still queued
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
	if len(res.Runs) != 1 || res.Runs[0].ID != done || res.Tasks != 3 || res.Keys == 0 {
		t.Errorf("prune --json = %+v, want run %s with its 3 queued tasks", res, done)
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
