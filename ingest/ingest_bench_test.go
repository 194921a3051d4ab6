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
//	REACTIVATOR_BENCH_ROUNDS=3              measurements per file size (best is shown)
const (
	envRounds      = "REACTIVATOR_BENCH_ROUNDS"
	envRows        = "REACTIVATOR_BENCH_ROWS"
	envConcurrency = "REACTIVATOR_BENCH_CONCURRENCY"
	envBatch       = "REACTIVATOR_BENCH_BATCH"
)

// benchJob is what the child ingests, and benchOut what it reports.
type benchJob struct {
	Addr        string `json:"addr"`
	DB          int    `json:"db"`
	File        string `json:"file"`
	Concurrency int    `json:"concurrency"`
	BatchSize   int    `json:"batch_size"`
	// Pooled uses asynq.NewClient (a connection pool) rather than NewEnqueuer.
	Pooled bool `json:"pooled"`
}

type benchOut struct {
	Result  Result        `json:"result"`
	Elapsed time.Duration `json:"elapsed"`
	MaxRSS  int64         `json:"max_rss"` // bytes
	CPU     time.Duration `json:"cpu"`     // user + system time of the process
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
	rdb := redis.NewClient(&redis.Options{Addr: job.Addr, DB: job.DB})
	defer rdb.Close()
	client := NewEnqueuer(rdb)
	if job.Pooled {
		client = asynq.NewClient(asynq.RedisClientOpt{Addr: job.Addr, DB: job.DB})
		defer client.Close()
	}
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
		out.CPU = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
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
		rows, rounds          int
		ours, pooled, plain   float64       // best rows/s
		rss                   int64         // highest peak RSS
		oursBytes, plainBytes float64       // Redis bytes per queued row
		oursCPU, plainCPU     time.Duration // least CPU time per row, client and Redis together
	}
	var lines []line
	b.ResetTimer()
	for _, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("zitadel-%d.csv", n))
		if err := writeZitadelFile(path, n); err != nil {
			b.Fatal(err)
		}
		l := line{rows: n, rounds: rounds(n)}
		// Ours and the plain loop take turns, best of a few rounds: a 2-core machine shared
		// with anything else is noisy. Each measurement has a database of its own: nothing is
		// flushed (freeing a million keys stalls the server); the server goes at the end.
		for i := range l.rounds {
			before, redisCPU := usedMemory(b, rdb), serverCPU(b, rdb)
			out := ingestInChild(b, benchJob{Addr: srv.Addr, DB: srv.NextDB(), File: path, Concurrency: conc, BatchSize: batch})
			if out.Result.Queued != n {
				b.Fatalf("ingest child for %d rows queued %+v, want every row", n, out.Result)
			}
			l.ours = max(l.ours, float64(n)/out.Elapsed.Seconds())
			l.rss = max(l.rss, out.MaxRSS)
			l.oursBytes = float64(usedMemory(b, rdb)-before) / float64(n)
			if cpu := (out.CPU + serverCPU(b, rdb) - redisCPU) / time.Duration(n); i == 0 || cpu < l.oursCPU {
				l.oursCPU = cpu
			}

			// The same with asynq.NewClient's connection pool instead of NewEnqueuer.
			out = ingestInChild(b, benchJob{Addr: srv.Addr, DB: srv.NextDB(), File: path, Concurrency: conc, BatchSize: batch, Pooled: true})
			l.pooled = max(l.pooled, float64(n)/out.Elapsed.Seconds())

			before, redisCPU, selfCPU := usedMemory(b, rdb), serverCPU(b, rdb), processCPU()
			d, err := plainEnqueueLoop(asynq.RedisClientOpt{Addr: srv.Addr, DB: srv.NextDB()}, path)
			if err != nil {
				b.Fatalf("plain Enqueue loop over %d rows: %v", n, err)
			}
			l.plain = max(l.plain, float64(n)/d.Seconds())
			l.plainBytes = float64(usedMemory(b, rdb)-before) / float64(n)
			if cpu := (processCPU() - selfCPU + serverCPU(b, rdb) - redisCPU) / time.Duration(n); i == 0 || cpu < l.plainCPU {
				l.plainCPU = cpu
			}
		}
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
	fmt.Fprintf(&sb, "\nIngest of a ZITADEL CSV (user_id,email) into a private redis-server, concurrency %d, batch %d.\n", c, bs)
	sb.WriteString("ingest: IngestFile with NewEnqueuer, in a child process (both passes included); pooled: the same with asynq.NewClient;\n")
	sb.WriteString("plain: one Enqueue after another over the same reader. rows/s: best of the rounds; CPU: user+sys of the client process\n")
	sb.WriteString("and of redis-server per row, least of the rounds; Redis B/row: INFO used_memory after minus before, per queued row.\n\n")
	sb.WriteString("| file rows | ingest rows/s | plain Enqueue loop rows/s | ratio | ingest rows/s, pooled client | best of | ingest peak RSS | Redis B/row (ingest) | Redis B/row (asynq task alone) | CPU µs/row ingest (+redis) | CPU µs/row plain (+redis) |\n")
	sb.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range lines {
		fmt.Fprintf(&sb, "| %d | %.0f | %.0f | %.2fx | %.0f | %d | %.1f MiB | %.0f | %.0f | %.1f | %.1f |\n",
			l.rows, l.ours, l.plain, l.ours/l.plain, l.pooled, l.rounds, float64(l.rss)/(1<<20), l.oursBytes, l.plainBytes,
			float64(l.oursCPU.Nanoseconds())/1e3, float64(l.plainCPU.Nanoseconds())/1e3)
	}
	fmt.Println(sb.String())
}

// rounds returns how many times a file of n rows is measured: REACTIVATOR_BENCH_ROUNDS, else 3
// for small files and 2 for large ones (the plain loop over a million rows takes a minute).
func rounds(n int) int {
	if r, err := strconv.Atoi(os.Getenv(envRounds)); err == nil && r > 0 {
		return r
	}
	if n > 200_000 {
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
func plainEnqueueLoop(opt asynq.RedisClientOpt, path string) (time.Duration, error) {
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

// usedMemory returns INFO memory's used_memory.
func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	v, err := strconv.ParseInt(infoField(b, rdb, "memory", "used_memory"), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// serverCPU returns the CPU time the server used so far (INFO cpu, user + system).
func serverCPU(b *testing.B, rdb *redis.Client) time.Duration {
	b.Helper()
	var total time.Duration
	for _, f := range []string{"used_cpu_user", "used_cpu_sys"} {
		v, err := strconv.ParseFloat(infoField(b, rdb, "cpu", f), 64)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Duration(v * float64(time.Second))
	}
	return total
}

// processCPU returns the CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
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
