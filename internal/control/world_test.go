// This file is the world the control tests act on: a private redis-server's database with a run
// store on a clock the test sets, and helpers that seed runs and read back every key of one.

package control

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/clock"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// t0 is when the seeded runs start: a fixed time, so that ages are the test's, not the wall's.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// world is one test's database with a store whose clock the test sets, and asynq's client and
// inspector on the same database.
type world struct {
	t     *testing.T
	ctx   context.Context
	rdb   *redis.Client
	store *jobs.Store
	cl    *asynq.Client
	insp  *asynq.Inspector

	mu  sync.Mutex
	now time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	rdb := redistest.Shared(t).Client(t)
	w := &world{t: t, ctx: context.Background(), rdb: rdb, now: t0,
		cl: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb)}
	w.store = jobs.NewStoreAt(rdb, clock.Func(w.clock))
	return w
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

// at sets the store's clock.
func (w *world) at(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = t
}

// row is line `line` of a ZITADEL run.
func row(line int) jobs.IngestRow {
	user := strconv.Itoa(300000000000000000 + line)
	return jobs.IngestRow{Row: jobs.Row{Line: line, Provider: jobs.Zitadel, UserID: user}, Input: []string{"", "", user}}
}

// lines returns rows of lines 2..n+1.
func lines(n int) []jobs.IngestRow {
	rows := make([]jobs.IngestRow, n)
	for i := range rows {
		rows[i] = row(i + 2)
	}
	return rows
}

// newRun creates ZITADEL run id at the store's clock with rows; with total, ingest is over
// (SetTotal), else the run is still being ingested.
func (w *world) newRun(id string, rows []jobs.IngestRow, total bool) {
	w.t.Helper()
	if _, created, err := w.store.CreateRun(w.ctx, jobs.Run{ID: id, Provider: jobs.Zitadel, File: id + ".csv"}); err != nil || !created {
		w.t.Fatalf("CreateRun(%s) = created %v, %v", id, created, err)
	}
	if _, err := w.store.AddRows(w.ctx, id, rows); err != nil {
		w.t.Fatal(err)
	}
	if total {
		if _, err := w.store.SetTotal(w.ctx, id, len(rows)); err != nil {
			w.t.Fatal(err)
		}
	}
}

// record gives line of run id outcome o, as a worker would.
func (w *world) record(id string, line int, o jobs.Outcome) {
	w.t.Helper()
	if ok, _, err := w.store.Record(w.ctx, id, line, jobs.OutcomeRecord{Outcome: o, Attempts: 1, FinishedAt: w.clock()}); err != nil || !ok {
		w.t.Fatalf("Record(%s line %d) = %v, %v", id, line, ok, err)
	}
}

// runOf reads run id back.
func (w *world) runOf(id string) jobs.Run {
	w.t.Helper()
	r, err := w.store.Run(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// enqueue queues the asynq tasks of rows of run id, as the workers' window does.
func (w *world) enqueue(id string, rows []jobs.IngestRow) {
	w.t.Helper()
	for _, r := range rows {
		task, err := jobs.NewReactivateTask(id, r.Row, w.clock())
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.cl.Enqueue(task); err != nil {
			w.t.Fatal(err)
		}
	}
}

// keysNaming returns every key of the database whose name holds s, asynq's included, found by
// SCAN.
func (w *world) keysNaming(s string) []string {
	w.t.Helper()
	var out []string
	iter := w.rdb.Scan(w.ctx, 0, "*", 1000).Iterator()
	for iter.Next(w.ctx) {
		if strings.Contains(iter.Val(), s) {
			out = append(out, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		w.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// snapshot is every key naming id with its value as DUMP gives it, and the ids naming it in
// asynq's lists and sets of the ZITADEL queue.
func (w *world) snapshot(id string) map[string]string {
	w.t.Helper()
	out := map[string]string{}
	for _, k := range w.keysNaming(id) {
		out[k] = w.rdb.Dump(w.ctx, k).Val()
	}
	for _, m := range w.taskIDs(jobs.Zitadel.Queue(), id) {
		out["member "+m] = ""
	}
	return out
}

// taskIDs returns the ids of the tasks of queue that hold s, in every state asynq lists.
func (w *world) taskIDs(queue, s string) []string {
	w.t.Helper()
	var out []string
	lists := map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		"pending": w.insp.ListPendingTasks, "active": w.insp.ListActiveTasks, "scheduled": w.insp.ListScheduledTasks,
		"retry": w.insp.ListRetryTasks, "archived": w.insp.ListArchivedTasks, "completed": w.insp.ListCompletedTasks,
	}
	for state, list := range lists {
		tasks, err := list(queue, asynq.PageSize(1000))
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			w.t.Fatalf("list %s tasks of %s: %v", state, queue, err)
		}
		for _, ti := range tasks {
			if strings.Contains(ti.ID, s) {
				out = append(out, state+":"+ti.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sameKeys fails t unless before and after hold the same keys with the same values.
func sameKeys(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if a, ok := after[k]; !ok {
			t.Errorf("%s: key %s is gone", what, k)
		} else if a != v {
			t.Errorf("%s: key %s changed", what, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s: key %s appeared", what, k)
		}
	}
}
