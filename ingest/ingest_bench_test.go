// This file measures ingestion against a private redis-server and prints the table of `make bench`:
// the shipped ingest's rows/s beside a plain sequential asynq Enqueue loop and a 16-goroutine one,
// Redis bytes per queued row, and the ingest process's peak RSS.

package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// Environment of the child process that ingests one file, so that its peak RSS is the ingest's
// alone. benchChildEnv holds the JSON of a benchJob.
const benchChildEnv = "REACTIVATOR_INGEST_BENCH_CHILD"

// Knobs of a manual run (the defaults are what `make bench` measures; `make bench-large` sets
// REACTIVATOR_BENCH_ROWS=10000000):
//
//	REACTIVATOR_BENCH_ROWS=100000,1000000   file sizes
//	REACTIVATOR_BENCH_ROUNDS=3              measurements per file size (best is shown)
const (
	envRounds = "REACTIVATOR_BENCH_ROUNDS"
	envRows   = "REACTIVATOR_BENCH_ROWS"
)

// benchJob is what the child ingests, and benchOut what it reports.
type benchJob struct {
	Addr string `json:"addr"`
	DB   int    `json:"db"`
	File string `json:"file"`
}

type benchOut struct {
	Result  Result        `json:"result"`
	Elapsed time.Duration `json:"elapsed"`
	MaxRSS  int64         `json:"max_rss"` // bytes
	Err     string        `json:"err,omitempty"`
}

// benchChild ingests one file as the child process, as the ingest command does: the Config it
// builds (Store and Enqueuer over one client, --concurrency's default), New, then IngestFile,
// as internal/oneshot.IngestFile calls them; and prints a benchOut on stdout.
func benchChild() int {
	var job benchJob
	out := benchOut{}
	defer func() { _ = json.NewEncoder(os.Stdout).Encode(out) }()
	if err := json.Unmarshal([]byte(os.Getenv(benchChildEnv)), &job); err != nil {
		out.Err = err.Error()
		return 1
	}
	rdb := redis.NewClient(&redis.Options{Addr: job.Addr, DB: job.DB})
	defer rdb.Close()
	in, err := New(Config{Store: jobs.NewStore(rdb), Enqueuer: asynq.NewClientFromRedisClient(rdb), Concurrency: DefaultConcurrency})
	if err != nil {
		out.Err = err.Error()
		return 1
	}
	start := time.Now()
	out.Result, err = in.IngestFile(context.Background(), job.File)
	out.Elapsed = time.Since(start)
	if err != nil {
		out.Err = err.Error()
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		out.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return 0
}

// BenchmarkIngestTable prints the ingest performance table. It runs once whatever b.N (make bench
// passes -benchtime 1x) and takes a few minutes on 2 cores.
func BenchmarkIngestTable(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
	if v := os.Getenv(envRows); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatalf("%s=%q: %v", envRows, v, err)
			}
			sizes = append(sizes, n)
		}
	}

	dir := b.TempDir()
	srvDir := filepath.Join(dir, "redis")
	if err := os.Mkdir(srvDir, 0o755); err != nil {
		b.Fatal(err)
	}
	srv, err := redistest.Start(srvDir, redistest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()

	type line struct {
		rows, rounds          int
		ours, seq, par        float64 // best rows/s
		rss                   int64   // highest peak RSS
		oursBytes, plainBytes float64 // Redis bytes per queued row
	}
	var lines []line
	b.ResetTimer()
	for _, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("zitadel-%d.csv", n))
		if err := writeZitadelFile(path, n); err != nil {
			b.Fatal(err)
		}
		l := line{rows: n, rounds: rounds(n)}
		// The three take turns, best of a few rounds: a 2-core machine shared with anything else
		// is noisy. Each measurement has a database of its own, emptied in the background after
		// it (FLUSHDB ASYNC), and the next one waits for the memory to be freed.
		for range l.rounds {
			db := srv.NextDB()
			before := usedMemory(b, rdb)
			out := ingestInChild(b, benchJob{Addr: srv.Addr, DB: db, File: path})
			if out.Result.Queued != n {
				b.Fatalf("ingest child for %d rows queued %+v, want every row", n, out.Result)
			}
			l.ours = max(l.ours, float64(n)/out.Elapsed.Seconds())
			l.rss = max(l.rss, out.MaxRSS)
			l.oursBytes = float64(usedMemory(b, rdb)-before) / float64(n)
			flush(b, srv.Addr, db, rdb)

			db = srv.NextDB()
			before = usedMemory(b, rdb)
			d, err := enqueueLoop(asynq.RedisClientOpt{Addr: srv.Addr, DB: db}, path, 1)
			if err != nil {
				b.Fatalf("sequential Enqueue loop over %d rows: %v", n, err)
			}
			l.seq = max(l.seq, float64(n)/d.Seconds())
			l.plainBytes = float64(usedMemory(b, rdb)-before) / float64(n)
			flush(b, srv.Addr, db, rdb)

			db = srv.NextDB()
			d, err = enqueueLoop(asynq.RedisClientOpt{Addr: srv.Addr, DB: db}, path, 16)
			if err != nil {
				b.Fatalf("16-goroutine Enqueue loop over %d rows: %v", n, err)
			}
			l.par = max(l.par, float64(n)/d.Seconds())
			flush(b, srv.Addr, db, rdb)
		}
		_ = os.Remove(path)
		lines = append(lines, l)
		b.ReportMetric(l.ours, fmt.Sprintf("rows/s@%d", n))
	}
	b.StopTimer()

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nIngest of a ZITADEL CSV (user_id,email) into a private redis-server, batches of %d rows, %d per round trip.\n", DefaultBatchSize, DefaultConcurrency)
	sb.WriteString("ingest: New + IngestFile with the ingest command's Config, in a child process (both passes; rows into the run store,\n")
	sb.WriteString("no asynq task: the workers' window queues those). sequential: one asynq Enqueue after another over the same reader;\n")
	sb.WriteString("16 goroutines: the same from 16 goroutines. rows/s: best of the rounds. Redis B/row: INFO used_memory after minus before.\n\n")
	sb.WriteString("| file rows | ingest rows/s | sequential Enqueue rows/s | 16-goroutine Enqueue rows/s | ingest / sequential | ingest / 16 goroutines | best of | ingest peak RSS | Redis B/queued row (ingest) | Redis B/row (asynq task) |\n")
	sb.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range lines {
		fmt.Fprintf(&sb, "| %d | %.0f | %.0f | %.0f | %.2fx | %.2fx | %d | %.1f MiB | %.0f | %.0f |\n",
			l.rows, l.ours, l.seq, l.par, l.ours/l.seq, l.ours/l.par, l.rounds, float64(l.rss)/(1<<20), l.oursBytes, l.plainBytes)
	}
	fmt.Println(sb.String())
}

// rounds returns how many times a file of n rows is measured: REACTIVATOR_BENCH_ROUNDS, else 3
// for small files, 2 up to a few million rows and 1 beyond (the sequential loop over ten million
// rows takes a quarter of an hour).
func rounds(n int) int {
	if r, err := strconv.Atoi(os.Getenv(envRounds)); err == nil && r > 0 {
		return r
	}
	switch {
	case n > 3_000_000:
		return 1
	case n > 200_000:
		return 2
	}
	return 3
}

// ingestInChild ingests job's file in a child process (this test binary again), so that the
// peak RSS measured is the ingest's alone.
func ingestInChild(b *testing.B, job benchJob) benchOut {
	b.Helper()
	j, _ := json.Marshal(job)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchChildEnv+"="+string(j))
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	var out benchOut
	if jerr := json.Unmarshal(raw, &out); err != nil || jerr != nil || out.Err != "" {
		b.Fatalf("ingest child for %s: %v, %v, %s (output %q)", job.File, err, jerr, out.Err, raw)
	}
	return out
}

// flush empties a measurement's database in the background and waits until its memory is freed.
func flush(b *testing.B, addr string, db int, rdb *redis.Client) {
	b.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer c.Close()
	ctx := context.Background()
	if err := c.FlushDBAsync(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	for infoField(b, rdb, "memory", "lazyfree_pending_objects") != "0" {
		time.Sleep(50 * time.Millisecond)
	}
}

// writeZitadelFile writes a ZITADEL CSV of n distinct rows.
func writeZitadelFile(path string, n int) error {
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

// enqueueLoop reads the file and calls Enqueue once per row from workers goroutines: what a
// straightforward ingest would do, without a run store.
func enqueueLoop(opt asynq.RedisClientOpt, path string, workers int) (time.Duration, error) {
	client := asynq.NewClient(opt)
	defer client.Close()
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rd, err := NewReader(path, f, Options{})
	if err != nil {
		return 0, err
	}
	now := time.Now()
	next := func() (*asynq.Task, error) {
		rec, err := rd.Next()
		if err != nil {
			return nil, err
		}
		return jobs.NewReactivateTask("plain", rec.Row, now)
	}
	if workers <= 1 {
		for {
			t, err := next()
			if errors.Is(err, io.EOF) {
				return time.Since(start), nil
			}
			if err != nil {
				return 0, err
			}
			if _, err := client.Enqueue(t); err != nil {
				return 0, err
			}
		}
	}
	var g errgroup.Group
	var mu sync.Mutex
	for range workers {
		g.Go(func() error {
			for {
				mu.Lock()
				t, err := next()
				mu.Unlock()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				if _, err := client.Enqueue(t); err != nil {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// usedMemory returns INFO memory's used_memory.
func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	v, err := strconv.ParseInt(infoField(b, rdb, "memory", "used_memory"), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// infoField returns one field of an INFO section.
func infoField(b *testing.B, rdb *redis.Client, section, field string) string {
	b.Helper()
	info, err := rdb.Info(context.Background(), section).Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			return v
		}
	}
	b.Fatalf("INFO %s has no %s", section, field)
	return ""
}
