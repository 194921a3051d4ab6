package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
)

// pruneWorld is a store on its own database with an asynq client and inspector on the same one.
type pruneWorld struct {
	s    *Store
	rdb  redis.UniversalClient
	ctx  context.Context
	cl   *asynq.Client
	insp *asynq.Inspector
	now  time.Time
}

func setupPrune(t *testing.T) *pruneWorld {
	t.Helper()
	s, _ := setupStore(t)
	return pruneWorldOn(s)
}

// setupPruneCluster is a prune world on a Redis Cluster of three masters of its own.
func setupPruneCluster(t *testing.T) *pruneWorld {
	t.Helper()
	cl, err := redistest.StartCluster(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	return pruneWorldOn(NewStore(cl.Client(t)))
}

func pruneWorldOn(s *Store) *pruneWorld {
	ctx := context.Background()
	w := &pruneWorld{s: s, rdb: s.rdb, ctx: ctx, cl: asynq.NewClientFromRedisClient(s.rdb),
		insp: asynq.NewInspectorFromRedisClient(s.rdb), now: time.Now()}
	s.now = func() time.Time { return w.now }
	return w
}

// run creates run id at the world's clock with n rows queued as asynq tasks. With finish, every
// row gets an outcome: the first `archived` rows' tasks are archived (a permanent failure), the
// others are deleted (a success), and the run:finished task is archived too. Without finish, the
// tasks stay pending and one row keeps no outcome.
func (w *pruneWorld) run(t *testing.T, id string, n, archived int, finish bool) {
	t.Helper()
	if _, _, err := w.s.CreateRun(w.ctx, Run{ID: id, Provider: Zitadel, File: id + ".csv"}); err != nil {
		t.Fatal(err)
	}
	rows := make([]IngestRow, n)
	for i := range rows {
		rows[i] = zrow(i+2, fmt.Sprintf("%d", 1000+i))
	}
	if _, err := w.s.AddRows(w.ctx, id, rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		task, err := NewReactivateTask(id, r.Row, w.now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.cl.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.s.SetTotal(w.ctx, id, n); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.s.ReserveRun(w.ctx, id, 1000, time.Second); err != nil { // a budget key too
		t.Fatal(err)
	}
	last := n
	if !finish {
		last = n - 1
	}
	for i, r := range rows[:last] {
		if _, err := w.s.Begin(w.ctx, r.Row.Provider, id, r.Row.Line); err != nil {
			t.Fatal(err)
		}
		o := OutcomeRecord{Outcome: Reactivated}
		if i < archived {
			o = OutcomeRecord{Outcome: NotFound}
		}
		if _, _, err := w.s.Record(w.ctx, id, r.Row.Line, o); err != nil {
			t.Fatal(err)
		}
		if !finish {
			continue
		}
		tid := TaskID(id, r.Row)
		var err error
		if i < archived {
			err = w.insp.ArchiveTask(Zitadel.Queue(), tid)
		} else {
			err = w.insp.DeleteTask(Zitadel.Queue(), tid)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if finish {
		if _, err := w.cl.Enqueue(NewRunFinishedTask(id)); err != nil {
			t.Fatal(err)
		}
		if err := w.insp.ArchiveTask(QueueControl, "finished:"+id); err != nil {
			t.Fatal(err)
		}
	}
}

// keysWith returns every key of the database whose name holds s, asynq's included.
func (w *pruneWorld) keysWith(t *testing.T, s string) []string {
	t.Helper()
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			if strings.Contains(iter.Val(), s) {
				mu.Lock()
				out = append(out, iter.Val())
				mu.Unlock()
			}
		}
		return iter.Err()
	}
	var err error
	switch c := w.rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(w.ctx, scan) // every master's keys
	case *redis.Client:
		err = scan(w.ctx, c)
	}
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// membersWith returns the task ids holding s in asynq's lists and sets of queue.
func (w *pruneWorld) membersWith(t *testing.T, queue, s string) []string {
	t.Helper()
	var out []string
	for _, st := range []string{"pending", "active", "scheduled", "retry", "archived", "completed"} {
		k := "asynq:{" + queue + "}:" + st
		var ms []string
		if st == "pending" || st == "active" {
			ms = w.rdb.LRange(w.ctx, k, 0, -1).Val()
		} else {
			ms = w.rdb.ZRange(w.ctx, k, 0, -1).Val()
		}
		for _, m := range ms {
			if strings.Contains(m, s) {
				out = append(out, st+":"+m)
			}
		}
	}
	return out
}

// snapshot is every key holding id with its value as DUMP gives it.
func (w *pruneWorld) snapshot(t *testing.T, id string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range w.keysWith(t, "{"+id+"}") {
		out[k] = w.rdb.Dump(w.ctx, k).Val()
	}
	for _, k := range w.keysWith(t, id+":") {
		out[k] = w.rdb.Dump(w.ctx, k).Val()
	}
	return out
}

func TestPruneLeavesNoKeyOfPrunedRun(t *testing.T) {
	t.Parallel()
	w := setupPrune(t)
	start := w.now
	w.now = start.Add(-40 * 24 * time.Hour)
	w.run(t, "old-done", 300, 120, true)
	w.run(t, "old-open", 20, 5, false) // never finished, however old
	w.now = start.Add(-2 * time.Hour)
	w.run(t, "young-done", 10, 3, true)
	w.now = start

	keep := map[string]map[string]string{}
	for _, id := range []string{"old-open", "young-done"} {
		keep[id] = w.snapshot(t, id)
		if len(keep[id]) == 0 {
			t.Fatalf("run %s has no keys before prune", id)
		}
	}
	if got := w.keysWith(t, "old-done"); len(got) < 121+5 {
		t.Fatalf("before prune: %d keys of old-done, want its run keys and archived tasks", len(got))
	}

	dry, err := w.s.Prune(w.ctx, PruneOptions{Before: start.Add(-24 * time.Hour), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Runs) != 1 || dry.Runs[0].ID != "old-done" || dry.Tasks != 121 {
		t.Fatalf("Prune(dry run) = %+v, want old-done with 121 tasks", dry)
	}
	if got := w.keysWith(t, "old-done"); len(got) < 121+5 {
		t.Fatalf("a dry run deleted keys: %d left", len(got))
	}

	res, err := w.s.Prune(w.ctx, PruneOptions{Before: start.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 || res.Runs[0].ID != "old-done" {
		t.Fatalf("Prune() runs = %+v, want old-done only", res.Runs)
	}
	// 120 archived row tasks and the archived run:finished task.
	if res.Tasks != 121 || res.Keys != dry.Keys || res.Keys < 5 {
		t.Errorf("Prune() = %d tasks, %d keys; want 121 tasks and the %d keys the dry run found", res.Tasks, res.Keys, dry.Keys)
	}
	if got := w.keysWith(t, "old-done"); len(got) != 0 {
		t.Errorf("keys of the pruned run left: %v", got)
	}
	for _, q := range []string{Zitadel.Queue(), QueueControl} {
		if got := w.membersWith(t, q, "old-done"); len(got) != 0 {
			t.Errorf("asynq %s still lists tasks of the pruned run: %v", q, got)
		}
	}
	for _, k := range runIndexKeys {
		if _, err := w.rdb.ZScore(w.ctx, k, "old-done").Result(); err != redis.Nil {
			t.Errorf("index %s still holds old-done (err %v)", k, err)
		}
	}
	for id, before := range keep {
		after := w.snapshot(t, id)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("prune changed run %s: keys before %v, after %v", id, keysOf(before), keysOf(after))
		}
	}
	if _, err := w.s.Run(w.ctx, "old-open"); err != nil {
		t.Errorf("Run(old-open) after prune = %v, want the run", err)
	}

	// Once the young run is old enough it goes too; the open one stays.
	res, err = w.s.Prune(w.ctx, PruneOptions{Before: start})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 || res.Runs[0].ID != "young-done" || res.Tasks != 4 {
		t.Fatalf("Prune(now) = %+v, want young-done with 4 tasks", res)
	}
	if got := w.keysWith(t, "young-done"); len(got) != 0 {
		t.Errorf("keys of young-done left: %v", got)
	}
	if after := w.snapshot(t, "old-open"); fmt.Sprint(after) != fmt.Sprint(keep["old-open"]) {
		t.Errorf("prune changed the unfinished run: keys %v", keysOf(after))
	}
}

// A ten-million-row run has more keys than Lua's unpack can spread in one call (about 8,000):
// prune deletes them all the same.
func TestPruneRunWithMoreKeysThanLuaUnpacks(t *testing.T) {
	t.Parallel()
	w := setupPrune(t)
	start := w.now
	w.now = start.Add(-40 * 24 * time.Hour)
	w.run(t, "big", 2, 1, true)
	w.now = start
	const extra = 9000
	if _, err := w.rdb.Pipelined(w.ctx, func(p redis.Pipeliner) error {
		for i := range extra {
			p.Set(w.ctx, fmt.Sprintf("%s{big}:rows:%d", keyPrefix, 100000+i), "x", 0)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res, err := w.s.Prune(w.ctx, PruneOptions{Before: start.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatalf("Prune() of a run with %d more keys: %v", extra, err)
	}
	if len(res.Runs) != 1 || res.Keys < extra {
		t.Errorf("Prune() = %d runs, %d keys; want the run with at least %d keys", len(res.Runs), res.Keys, extra)
	}
	if got := w.keysWith(t, "{big}"); len(got) != 0 {
		t.Errorf("%d keys of the pruned run left, e.g. %v", len(got), got[:min(3, len(got))])
	}
}

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// A cancelled run finishes while its rows' tasks still wait in the queue: prune deletes them, or
// a worker would later call the provider for rows that have no record any more.
func TestPruneDeletesQueuedTasksOfCancelledRun(t *testing.T) {
	t.Parallel()
	w := setupPrune(t)
	start := w.now
	w.now = start.Add(-40 * 24 * time.Hour)
	w.run(t, "cancelled", 50, 0, false)
	if _, fin, err := w.s.Cancel(w.ctx, "cancelled"); err != nil || !fin {
		t.Fatalf("Cancel() = finished %v, %v; want finished", fin, err)
	}
	w.now = start
	res, err := w.s.Prune(w.ctx, PruneOptions{Before: start.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 || res.Tasks != 50 {
		t.Fatalf("Prune() = %+v, want the cancelled run with its 50 pending tasks", res)
	}
	if got := w.keysWith(t, "cancelled"); len(got) != 0 {
		t.Errorf("keys left: %v", got)
	}
	if got := w.membersWith(t, Zitadel.Queue(), "cancelled"); len(got) != 0 {
		t.Errorf("asynq still lists: %v", got)
	}
}

func TestPruneLimit(t *testing.T) {
	t.Parallel()
	w := setupPrune(t)
	start := w.now
	w.now = start.Add(-48 * time.Hour)
	for i := range 5 {
		w.run(t, fmt.Sprintf("lim-%d", i), 2, 1, true)
	}
	w.now = start
	res, err := w.s.Prune(w.ctx, PruneOptions{Before: start, Limit: 3})
	if err != nil || len(res.Runs) != 3 {
		t.Fatalf("Prune(limit 3) = %d runs, %v; want 3", len(res.Runs), err)
	}
	res, err = w.s.Prune(w.ctx, PruneOptions{Before: start})
	if err != nil || len(res.Runs) != 2 {
		t.Fatalf("Prune() after = %d runs, %v; want the other 2", len(res.Runs), err)
	}
}

func TestListRunsEveryRunOnceWhileRunsAreAdded(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	base := time.Now().Add(-time.Hour)
	var at time.Time
	s.now = func() time.Time { return at }
	want := map[string]bool{}
	for i := range 95 {
		// Three runs a millisecond: pages must split ties right.
		at = base.Add(time.Duration(i/3) * time.Millisecond)
		id := fmt.Sprintf("page-%03d", i)
		if _, _, err := s.CreateRun(ctx, Run{ID: id, Provider: Stytch, File: "m.csv"}); err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	seen := map[string]int{}
	var order []time.Time
	o := ListOptions{Limit: 7}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("ListRuns never ends")
		}
		page, err := s.ListRuns(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Runs) > 7 {
			t.Fatalf("ListRuns(limit 7) = %d runs", len(page.Runs))
		}
		for _, r := range page.Runs {
			seen[r.ID]++
			order = append(order, r.CreatedAt)
		}
		// New runs arrive between pages, some in the same millisecond as the newest.
		at = time.Now().Add(time.Duration(pages%2) * time.Millisecond)
		if _, _, err := s.CreateRun(ctx, Run{ID: fmt.Sprintf("new-%03d", pages), Provider: Stytch, File: "m.csv"}); err != nil {
			t.Fatal(err)
		}
		if page.Next == "" {
			break
		}
		o.After = page.Next
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("run %s listed %d times, want 1", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("run %s listed %d times, want at most 1", id, n)
		}
	}
	if !slices.IsSortedFunc(order, func(a, b time.Time) int { return b.Compare(a) }) {
		t.Errorf("ListRuns pages are not newest first")
	}
	if _, err := s.ListRuns(ctx, ListOptions{After: "nonsense"}); err == nil {
		t.Errorf("ListRuns(After: nonsense) = nil error, want ErrBadCursor")
	}
}

func TestOpenRunsDropsFinishedAndBuildsOnce(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	for _, id := range []string{"o1", "o2", "f1"} {
		newRun(t, s, ctx, id)
		if _, err := s.AddRows(ctx, id, []IngestRow{zrow(2, "7")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetTotal(ctx, id, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Record(ctx, "f1", 2, OutcomeRecord{Outcome: Reactivated}); err != nil {
		t.Fatal(err)
	}
	ids := func() []string {
		runs, err := s.OpenRuns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range runs {
			out = append(out, r.ID)
		}
		sort.Strings(out)
		return out
	}
	if got := ids(); fmt.Sprint(got) != "[o1 o2]" {
		t.Fatalf("OpenRuns() = %v, want [o1 o2]", got)
	}
	if n := s.rdb.ZCard(ctx, openRunsKey).Val(); n != 2 {
		t.Errorf("open index holds %d runs after a read, want 2 (the finished one dropped)", n)
	}
	// A store from before the open index: it is built on first use.
	s.rdb.Del(ctx, openRunsKey, openRunsBuiltKey)
	if got := ids(); fmt.Sprint(got) != "[o1 o2]" {
		t.Fatalf("OpenRuns() on an old store = %v, want [o1 o2]", got)
	}
}

// bigRun creates a finished run id older than a day with 2 rows (one archived task) and extra
// more keys under its hash tag, as a run of many rows has, and returns how many keys it has.
func (w *pruneWorld) bigRun(t *testing.T, id string, extra int) int {
	t.Helper()
	start := w.now
	w.now = start.Add(-40 * 24 * time.Hour)
	w.run(t, id, 2, 1, true)
	w.now = start
	if _, err := w.rdb.Pipelined(w.ctx, func(p redis.Pipeliner) error {
		for i := range extra {
			p.Set(w.ctx, fmt.Sprintf("%s{%s}:rows:%d", keyPrefix, id, 100000+i), "x", 0)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return len(w.keysWith(t, "{"+id+"}"))
}

// A run with more keys than one batch goes in several script calls, each no larger than a
// batch, the run marked as being pruned before its first key goes and its hash deleted last;
// nothing of it is left and the counts are right.
func TestPruneDeletesARunLargerThanABatchInBatches(t *testing.T) {
	t.Parallel()
	w := setupPrune(t)
	keys := w.bigRun(t, "big", 2*pruneKeyBatch+500)
	var batches []int
	w.s.pruneBatchDone = func(id string) error {
		m := w.rdb.HGetAll(w.ctx, runKey(id)).Val()
		if m["pruning"] != "1" {
			t.Errorf("batch %d: the run's hash is %v, want it kept and marked pruning", len(batches)+1, m)
		}
		batches = append(batches, keys-len(w.keysWith(t, "{"+id+"}")))
		return nil
	}
	res, err := w.s.Prune(w.ctx, PruneOptions{Before: w.now.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 || res.Runs[0].Keys != keys || res.Keys != keys || res.Runs[0].Tasks != 2 || res.Tasks != 2 {
		t.Errorf("Prune() = %+v, want run big with its %d keys and 2 tasks", res, keys)
	}
	if len(batches) < 3 {
		t.Errorf("keys deleted in %d batches, want at least 3 of at most %d", len(batches), pruneKeyBatch)
	}
	for i, n := range batches {
		prev := 0
		if i > 0 {
			prev = batches[i-1]
		}
		if n-prev > pruneKeyBatch {
			t.Errorf("batch %d deleted %d keys, want at most %d", i+1, n-prev, pruneKeyBatch)
		}
	}
	if got := w.keysWith(t, "big"); len(got) != 0 {
		t.Errorf("%d keys naming the pruned run left, e.g. %v", len(got), got[:min(3, len(got))])
	}
	if _, err := w.rdb.ZScore(w.ctx, runsKey, "big").Result(); err != redis.Nil {
		t.Errorf("the index still holds big (err %v)", err)
	}
}

// The batches on a Redis Cluster: the run's keys, in one slot, are found on their master and
// deleted there, a batch at a time; a prune stopped between batches is finished by the next.
func TestPruneInBatchesOnCluster(t *testing.T) {
	t.Parallel()
	w := setupPruneCluster(t)
	keys := w.bigRun(t, "cl", 2*pruneKeyBatch+10)
	w.bigRun(t, "other", 10)
	stopped := errors.New("stopped")
	w.s.pruneBatchDone = func(string) error { return stopped }
	cutoff := w.now.Add(-24 * time.Hour)
	if _, err := w.s.Prune(w.ctx, PruneOptions{Before: cutoff}); !errors.Is(err, stopped) {
		t.Fatalf("Prune() stopped after a batch = %v, want %v", err, stopped)
	}
	if r, err := w.s.Run(w.ctx, "cl"); err != nil || !r.Pruning {
		t.Errorf("Run(cl) = pruning %v, %v; want the run, pruning", r.Pruning, err)
	}
	w.s.pruneBatchDone = nil
	res, err := w.s.Prune(w.ctx, PruneOptions{Before: cutoff})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 {
		t.Errorf("Prune() after = %+v, want runs cl and other", res)
	}
	if got := w.keysWith(t, "{cl}"); len(got) != 0 {
		t.Errorf("%d keys of run cl left (of %d), want none", len(got), keys)
	}
	if got := w.keysWith(t, "{other}"); len(got) != 0 {
		t.Errorf("%d keys of run other left, want none", len(got))
	}
}

// A prune that stops between batches (its process killed) leaves a run that says it is being
// pruned, with no report nor undo, never one that looks finished and whole; the next prune
// finishes it.
func TestPruneStoppedBetweenBatchesIsShownAndFinishedByTheNext(t *testing.T) {
	t.Parallel()
	w := setupPrune(t)
	keys := w.bigRun(t, "half", 2*pruneKeyBatch)
	killed := errors.New("killed")
	w.s.pruneBatchDone = func(string) error { return killed }
	cutoff := w.now.Add(-24 * time.Hour)
	if _, err := w.s.Prune(w.ctx, PruneOptions{Before: cutoff}); !errors.Is(err, killed) {
		t.Fatalf("Prune() stopped after a batch = %v, want %v", err, killed)
	}
	left := len(w.keysWith(t, "{half}"))
	if left >= keys || left == 0 {
		t.Fatalf("%d of %d keys left after one batch, want some gone and some left", left, keys)
	}
	r, err := w.s.Run(w.ctx, "half")
	if err != nil || !r.Pruning || r.Status(false) != StatusPruning {
		t.Errorf("Run(half) = pruning %v, status %s, %v; want the run, pruning", r.Pruning, r.Status(false), err)
	}
	page, err := w.s.ListRuns(w.ctx, ListOptions{})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].Status(false) != StatusPruning {
		t.Errorf("ListRuns() = %+v, %v; want run half, pruning", page.Runs, err)
	}
	if _, _, err := w.s.CreateUndoRun(w.ctx, "half"); !errors.Is(err, ErrRunPruning) {
		t.Errorf("CreateUndoRun(half) = %v, want ErrRunPruning", err)
	}

	w.s.pruneBatchDone = nil
	res, err := w.s.Prune(w.ctx, PruneOptions{Before: cutoff})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 || res.Runs[0].ID != "half" || res.Keys != left {
		t.Errorf("Prune() after = %+v, want run half with the %d keys left", res, left)
	}
	if got := w.keysWith(t, "half"); len(got) != 0 {
		t.Errorf("%d keys naming the run left, e.g. %v", len(got), got[:min(3, len(got))])
	}
	if page, _ := w.s.ListRuns(w.ctx, ListOptions{}); len(page.Runs) != 0 {
		t.Errorf("ListRuns() after = %+v, want none", page.Runs)
	}
}

// Each batch checks again that the run is finished before the cutoff: a run that stops being so
// once the batches began keeps every key the next batches would have deleted, its hash with
// them, and is reported skipped.
func TestPruneBatchesKeepKeysOfRunNoLongerFinishedBeforeCutoff(t *testing.T) {
	t.Parallel()
	w := setupPrune(t)
	keys := w.bigRun(t, "moved", 3*pruneKeyBatch)
	w.s.pruneBatchDone = func(id string) error {
		// Finished now, after the cutoff.
		return w.rdb.HSet(w.ctx, runKey(id), "finished_at", w.now.UnixMilli()).Err()
	}
	res, err := w.s.Prune(w.ctx, PruneOptions{Before: w.now.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 0 || len(res.Skipped) != 1 || res.Skipped[0].ID != "moved" {
		t.Errorf("Prune() = %+v, want run moved skipped", res)
	}
	if left := len(w.keysWith(t, "{moved}")); left < keys-pruneKeyBatch {
		t.Errorf("%d of %d keys left, want all but the first batch's %d", left, keys, pruneKeyBatch)
	}
	if r, err := w.s.Run(w.ctx, "moved"); err != nil || !r.Pruning {
		t.Errorf("Run(moved) = pruning %v, %v; want the run, marked pruning", r.Pruning, err)
	}
}
