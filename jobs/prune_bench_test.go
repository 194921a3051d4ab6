package jobs_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/ingest"
	"reactivator/internal/fakeidp"
	"reactivator/internal/redistest"
	"reactivator/jobs"
	"reactivator/worker"
	"reactivator/worker/zitadel"
)

// BenchmarkRetentionBytes measures what a finished run costs Redis before and after prune, on a
// private redis-server, through the code the commands run: a ZITADEL file goes through ingest
// (ingest.New with an asynq client over the store's connection, as the ingest command builds
// it), a worker.Server (its window queues the rows, its handler calls and records each one) whose
// ZITADEL caller answers from memory with ZITADEL's own answers classified by zitadel.Classify (a
// 20-character X-Request-Id each; every 50th row "User could not be found", whose task asynq
// archives), then Store.Prune, during which
// the process's Go heap is sampled every 2 ms for its peak. Bytes are INFO memory's used_memory above a base taken after a
// small run was worked and pruned, so that connections, loaded scripts and asynq's per-queue keys
// are in the base. It runs once whatever b.N, for 100,000 rows then 1,000,000 (a fresh
// redis-server and worker each); REACTIVATOR_RETENTION_ROWS sets the sizes, comma-separated
// (make bench-large: ten million).
//
//	go test -run '^$' -bench RetentionBytes -benchtime 1x ./jobs
func BenchmarkRetentionBytes(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
	if testing.Short() {
		sizes = []int{10_000}
	}
	if v := os.Getenv("REACTIVATOR_RETENTION_ROWS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("REACTIVATOR_RETENTION_ROWS=%q: want numbers of rows, comma-separated", v)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		retention(b, n)
	}
}

// retention measures one run of n rows on its own redis-server and worker.
func retention(b *testing.B, n int) {
	dir := b.TempDir()
	srv, err := redistest.Start(dir, redistest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	store := jobs.NewStore(rdb)

	// Work the rows as a worker process does.
	w, err := worker.New(worker.Config{
		Redis: rdb, Callers: map[jobs.Provider]worker.Caller{jobs.Zitadel: answeringZitadel{}}, Concurrency: 64,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	wctx, stopWorker := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- w.Run(wctx) }()
	defer func() { stopWorker(); <-served }()
	insp := asynq.NewInspectorFromRedisClient(rdb)
	in, err := ingest.New(ingest.Config{Store: store, Enqueuer: asynq.NewClientFromRedisClient(rdb)})
	if err != nil {
		b.Fatal(err)
	}
	// finish ingests a file of rows and waits until the workers recorded every row.
	finish := func(rows int) (string, int64) {
		path := filepath.Join(dir, fmt.Sprintf("users-%d.csv", rows))
		if err := writeUsers(path, rows); err != nil {
			b.Fatal(err)
		}
		res, err := in.IngestFile(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		queued := memory(b, rdb)
		start := time.Now()
		for {
			r, err := store.Run(ctx, res.RunID)
			if err != nil {
				b.Fatal(err)
			}
			backlog, err := store.QueueBacklog(ctx, jobs.Zitadel.Queue())
			if err != nil {
				b.Fatal(err)
			}
			if r.State == jobs.RunFinished && backlog == 0 {
				return res.RunID, queued
			}
			if limit := 15*time.Minute + time.Duration(rows)*time.Millisecond; time.Since(start) > limit {
				b.Fatalf("run not finished after %s: %d/%d rows", limit, r.Done, r.Total)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// A small run first, pruned, so that the base already holds what does not depend on rows:
	// connections, loaded scripts, asynq's queue and statistics keys.
	finish(100)
	if _, err := store.Prune(ctx, jobs.PruneOptions{Before: time.Now().Add(time.Second)}); err != nil {
		b.Fatal(err)
	}
	base := memory(b, rdb)
	runID, queued := finish(n)
	finished := memory(b, rdb)
	byKind := keyBytes(b, rdb)
	archived, _ := insp.GetQueueInfo(jobs.Zitadel.Queue())

	runtime.GC()
	heapBefore := heapBytes()
	sampled := sampleHeap()
	pr, err := store.Prune(ctx, jobs.PruneOptions{Before: time.Now().Add(time.Second)})
	heapPeak := sampled()
	if err != nil {
		b.Fatal(err)
	}
	pruned := memory(b, rdb)
	left := 0
	iter := rdb.Scan(ctx, 0, "*"+runID+"*", 1000).Iterator()
	for iter.Next(ctx) {
		left++
	}

	perRow := func(m int64) float64 { return float64(m-base) / float64(n) }
	b.ReportMetric(perRow(queued), "B/queued-row")
	b.ReportMetric(perRow(finished), "B/finished-row")
	b.ReportMetric(perRow(pruned), "B/row-after-prune")
	fmt.Fprintf(os.Stderr, "\nRetention, %d-row run on a private redis-server (used_memory above the base: the server after a pruned warm-up run)\n", n)
	fmt.Fprintf(os.Stderr, "  queued (after ingest):   %8.1f bytes/row  (%d bytes)\n", perRow(queued), queued-base)
	fmt.Fprintf(os.Stderr, "  finished (before prune): %8.1f bytes/row  (%d bytes; %d archived tasks)\n", perRow(finished), finished-base, archived.Archived)
	fmt.Fprintf(os.Stderr, "    of which, by key (MEMORY USAGE):")
	for _, k := range []string{"rows", "seen", "out", "att", "run", "asynq task", "other"} {
		fmt.Fprintf(os.Stderr, " %s %.1f", k, float64(byKind[k])/float64(n))
	}
	fmt.Fprintln(os.Stderr)
	fmt.Fprintf(os.Stderr, "  after prune:             %8.1f bytes/row  (%d bytes; %d runs, %d keys, %d tasks deleted; %d keys naming the run left)\n",
		perRow(pruned), pruned-base, len(pr.Runs), pr.Keys, pr.Tasks, left)
	fmt.Fprintf(os.Stderr, "  peak Go heap during Prune: %.1f MiB (%.1f MiB live before it; sampled every 2 ms)\n",
		float64(heapPeak)/(1<<20), float64(heapBefore)/(1<<20))
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		fmt.Fprintf(os.Stderr, "  peak RSS of this process so far (ingest and the worker; sizes run in the order given): %.1f MiB\n", float64(ru.Maxrss)/1024) // kilobytes on Linux
	}
	if left != 0 || len(pr.Runs) != 1 {
		b.Errorf("prune left %d keys naming the run (pruned %d runs), want 0 (1)", left, len(pr.Runs))
	}
}

// heapBytes is the bytes of heap objects, live or not yet swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap samples heapBytes every 2 ms until the function it returns is called, which
// returns the highest sample.
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		top := heapBytes()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				peak <- max(top, heapBytes())
				return
			case <-t.C:
				top = max(top, heapBytes())
			}
		}
	}()
	return func() uint64 { close(stop); return <-peak }
}

// keyBytes sums MEMORY USAGE over every key, by kind: a run's rows, seen, out (with outx) and att
// keys, its run hash, asynq's task hashes, and the rest.
func keyBytes(b *testing.B, rdb *redis.Client) map[string]int64 {
	b.Helper()
	ctx := context.Background()
	out := map[string]int64{}
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		kind := "other"
		if _, rest, ok := strings.Cut(k, "}:"); ok && strings.HasPrefix(k, "reactivator:{") {
			kind, _, _ = strings.Cut(rest, ":")
		} else if strings.HasPrefix(k, "asynq:{") && strings.Contains(k, "}:t:") {
			kind = "asynq task"
		}
		switch kind {
		case "outx":
			kind = "out"
		case "rows", "seen", "out", "att", "run", "asynq task":
		default:
			kind = "other"
		}
		out[kind] += rdb.MemoryUsage(ctx, k, 0).Val()
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}

// memory returns used_memory once lazily freed objects are gone.
func memory(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	for range 100 {
		if field(b, rdb, "lazyfree_pending_objects") == "0" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	v, err := strconv.ParseInt(field(b, rdb, "used_memory"), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func field(b *testing.B, rdb *redis.Client, name string) string {
	b.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	b.Fatal(errors.New("INFO memory has no " + name))
	return ""
}

func writeUsers(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "user_id,email")
	for i := range n {
		fmt.Fprintf(w, "%d,user%d@example.com\n", 280000000000000000+i, i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// answeringZitadel answers every reactivate from memory with what ZITADEL (v2) answers, through
// zitadel.Classify: success, or "User could not be found" for every 50th line.
type answeringZitadel struct{}

func (answeringZitadel) Reactivate(_ context.Context, r jobs.Row) jobs.Result {
	// A request id like ZITADEL's X-Request-Id: 20 lower-case letters and digits, one per call.
	l := uint64(r.Line)
	id := strconv.FormatUint(l*0x9e3779b97f4a7c15|1<<63, 36) + strconv.FormatUint(l*0xbf58476d1ce4e5b9|1<<63, 36)[:7]
	h := http.Header{"X-Request-Id": {id}, "Content-Type": {"application/json"}}
	if r.Line%50 == 0 {
		return zitadel.Classify(zitadel.APIv2, false, 404, h, []byte(fakeidp.ZitadelError(5, "User could not be found", "COMMAND-4M0sd")))
	}
	return zitadel.Classify(zitadel.APIv2, false, 200, h, []byte(fakeidp.ZitadelSuccess))
}

func (answeringZitadel) Check(context.Context) error { return nil }
