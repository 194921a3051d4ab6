package jobs_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/ingest"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// BenchmarkRetentionBytes measures what a finished run costs Redis before and after prune, on a
// private redis-server: a 100k-row ZITADEL file goes through the ingest path the ingest command
// uses (ingest.Ingester with an asynq client over the store's connection), an asynq server whose
// handler records each row through the run store as a worker does (Begin, then Record; 2% of
// the rows end not_found and their tasks are archived), then Store.Prune. Bytes are INFO
// memory's used_memory above a base taken after a small run was worked and pruned, so that
// connections, loaded scripts and asynq's per-queue keys are in the base. It runs once whatever b.N.
//
//	go test -run '^$' -bench RetentionBytes -benchtime 1x ./jobs
func BenchmarkRetentionBytes(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
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

	// Work the rows as workers record them.
	asrv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 64, Queues: map[string]int{jobs.Zitadel.Queue(): 1},
		LogLevel: asynq.ErrorLevel, RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return time.Millisecond },
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(jobs.TypeReactivateZitadel, func(ctx context.Context, t *asynq.Task) error {
		p, _, err := jobs.ParseReactivatePayload(t)
		if err != nil {
			return err
		}
		a, err := store.Begin(ctx, jobs.Zitadel, p.RunID, p.Line)
		if err != nil || a.Done {
			return err
		}
		o := jobs.OutcomeRecord{Outcome: jobs.Reactivated, HTTPStatus: 200, Attempts: a.N, RequestID: "req-" + strconv.Itoa(p.Line)}
		var ret error
		if p.Line%50 == 0 {
			o = jobs.OutcomeRecord{Outcome: jobs.NotFound, HTTPStatus: 404, Attempts: a.N, Message: "user not found", RequestID: "req-" + strconv.Itoa(p.Line)}
			ret = fmt.Errorf("not_found: %w", asynq.SkipRetry)
		}
		if _, _, err := store.Record(ctx, p.RunID, p.Line, o); err != nil {
			return err
		}
		return ret
	})
	if err := asrv.Start(mux); err != nil {
		b.Fatal(err)
	}
	defer asrv.Shutdown()
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
			qi, err := insp.GetQueueInfo(jobs.Zitadel.Queue())
			if err != nil {
				b.Fatal(err)
			}
			if r.State == jobs.RunFinished && qi.Pending+qi.Active+qi.Retry == 0 {
				return res.RunID, queued
			}
			if time.Since(start) > 15*time.Minute {
				b.Fatalf("run not finished after 15 minutes: %d/%d rows", r.Done, r.Total)
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
	archived, _ := insp.GetQueueInfo(jobs.Zitadel.Queue())

	pr, err := store.Prune(ctx, jobs.PruneOptions{Before: time.Now().Add(time.Second)})
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
	fmt.Fprintf(os.Stderr, "  after prune:             %8.1f bytes/row  (%d bytes; %d runs, %d keys, %d tasks deleted; %d keys naming the run left)\n",
		perRow(pruned), pruned-base, len(pr.Runs), pr.Keys, pr.Tasks, left)
	if left != 0 || len(pr.Runs) != 1 {
		b.Errorf("prune left %d keys naming the run (pruned %d runs), want 0 (1)", left, len(pr.Runs))
	}
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
