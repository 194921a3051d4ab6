// This file measures ingestion against a private redis-server and prints the table of `make bench`:
// rows/s beside a plain asynq Enqueue loop, peak RSS of the ingest process, Redis bytes per row.
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
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// Environment of the child process that ingests one file, so that its peak RSS is the ingest's
// alone. benchChildEnv holds the JSON of a benchJob.
const benchChildEnv = "REACTIVATOR_INGEST_BENCH_CHILD"

// Knobs of a manual run (the defaults are what `make bench` measures):
//
//	REACTIVATOR_BENCH_ROWS=100000,1000000   file sizes
//	REACTIVATOR_BENCH_CONCURRENCY=16        Config.Concurrency (0: the default)
//	REACTIVATOR_BENCH_BATCH=500             Config.BatchSize (0: the default)
const (
	envRows        = "REACTIVATOR_BENCH_ROWS"
	envConcurrency = "REACTIVATOR_BENCH_CONCURRENCY"
	envBatch       = "REACTIVATOR_BENCH_BATCH"
)

// benchJob is what the child ingests, and benchOut what it reports.
type benchJob struct {
	Addr        string `json:"addr"`
	File        string `json:"file"`
	Concurrency int    `json:"concurrency"`
	BatchSize   int    `json:"batch_size"`
}

type benchOut struct {
	Result  Result        `json:"result"`
	Elapsed time.Duration `json:"elapsed"`
	MaxRSS  int64         `json:"max_rss"` // bytes
	Err     string        `json:"err,omitempty"`
}

// benchChild ingests one file as the child process and prints a benchOut on stdout.
func benchChild() int {
	var job benchJob
	out := benchOut{}
	defer func() { _ = json.NewEncoder(os.Stdout).Encode(out) }()
	if err := json.Unmarshal([]byte(os.Getenv(benchChildEnv)), &job); err != nil {
		out.Err = err.Error()
		return 1
	}
	rdb := redis.NewClient(&redis.Options{Addr: job.Addr})
	defer rdb.Close()
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: job.Addr})
	defer client.Close()
	in, err := New(Config{Store: jobs.NewStore(rdb), Enqueuer: client, Concurrency: job.Concurrency, BatchSize: job.BatchSize})
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
	conc, _ := strconv.Atoi(os.Getenv(envConcurrency))
	batch, _ := strconv.Atoi(os.Getenv(envBatch))

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
		rows                  int
		ours, plain           float64 // rows/s
		rss                   int64
		oursBytes, plainBytes float64 // Redis bytes per queued row
	}
	var lines []line
	b.ResetTimer()
	for _, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("zitadel-%d.csv", n))
		if err := writeZitadelFile(path, n); err != nil {
			b.Fatal(err)
		}
		l := line{rows: n}

		// Ours, in a child process.
		before := flushAndMeasure(b, rdb)
		job, _ := json.Marshal(benchJob{Addr: srv.Addr, File: path, Concurrency: conc, BatchSize: batch})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), benchChildEnv+"="+string(job))
		cmd.Stderr = os.Stderr
		raw, err := cmd.Output()
		var out benchOut
		if jerr := json.Unmarshal(raw, &out); err != nil || jerr != nil || out.Err != "" {
			b.Fatalf("ingest child for %d rows: %v, %v, %s (output %q)", n, err, jerr, out.Err, raw)
		}
		if out.Result.Queued != n {
			b.Fatalf("ingest child for %d rows queued %+v, want every row", n, out.Result)
		}
		l.ours = float64(n) / out.Elapsed.Seconds()
		l.rss = out.MaxRSS
		l.oursBytes = float64(usedMemory(b, rdb)-before) / float64(n)

		// A plain loop of Enqueue calls on the same rows, read by the same reader.
		before = flushAndMeasure(b, rdb)
		d, err := plainEnqueueLoop(srv.Addr, path)
		if err != nil {
			b.Fatal(err)
		}
		l.plain = float64(n) / d.Seconds()
		l.plainBytes = float64(usedMemory(b, rdb)-before) / float64(n)
		flushAndMeasure(b, rdb)
		_ = os.Remove(path)
		lines = append(lines, l)
		b.ReportMetric(l.ours, fmt.Sprintf("rows/s@%d", n))
	}
	b.StopTimer()

	c, bs := conc, batch
	if c == 0 {
		c = DefaultConcurrency
	}
	if bs == 0 {
		bs = DefaultBatchSize
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\ningest of a ZITADEL CSV (user_id,email) into a private redis-server, concurrency %d, batch %d:\n\n", c, bs)
	sb.WriteString("| file rows | ingest rows/s | plain Enqueue loop rows/s | ratio | ingest peak RSS | Redis B/row (ingest) | Redis B/row (asynq task alone) |\n")
	sb.WriteString("|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range lines {
		fmt.Fprintf(&sb, "| %d | %.0f | %.0f | %.2fx | %.1f MiB | %.0f | %.0f |\n",
			l.rows, l.ours, l.plain, l.ours/l.plain, float64(l.rss)/(1<<20), l.oursBytes, l.plainBytes)
	}
	fmt.Println(sb.String())
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

// plainEnqueueLoop reads the file and calls Enqueue once per row, one after the other: what a
// straightforward ingest would do, without a run store.
func plainEnqueueLoop(addr, path string) (time.Duration, error) {
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: addr})
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
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return time.Since(start), nil
		}
		if err != nil {
			return 0, err
		}
		t, err := jobs.NewReactivateTask("plain", rec.Row, now)
		if err != nil {
			return 0, err
		}
		if _, err := client.Enqueue(t); err != nil {
			return 0, err
		}
	}
}

// flushAndMeasure empties the benchmark's own server and returns its used_memory.
func flushAndMeasure(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	return usedMemory(b, rdb)
}

// usedMemory returns INFO memory's used_memory.
func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("INFO memory has no used_memory")
	return 0
}
