package worker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/ingest"
	"reactivator/internal/asynqlog"
	"reactivator/internal/fakeidp"
	"reactivator/internal/httpapi"
	"reactivator/internal/redisconn"
	"reactivator/internal/redistest"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

// BenchmarkWorkerTable prints the workers' performance table (make bench): achieved rate against
// the limit with 1 and 3 worker processes, the busiest calendar second, 429s provoked when the
// fake enforces the same limit, worker CPU per 1000 rows; and the unlimited pipeline beside a bare
// asynq server with a no-op handler. The rows are ingested as `reactivator ingest` does and the
// workers' window queues them, as with the commands.
func BenchmarkWorkerTable(b *testing.B) {
	if b.N > 1 {
		b.Skip("a table, not a loop: run with -benchtime 1x")
	}
	fmt.Println("\n### Workers against the fake Stytch (50 ms latency), one private redis-server")
	fmt.Println()
	fmt.Println("| limit req/s | worker processes | rows | achieved req/s | achieved / limit | busiest second | limit + burst | 429s (fake limit = ours) | worker CPU s / 1000 rows |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, limit := range []int{50, 200, 1000} {
		for _, procs := range []int{1, 3} {
			benchLimited(b, limit, procs)
		}
	}
	pipelineTable(b)
}

// BenchmarkPipeline prints only the unlimited pipeline beside the asynq ceiling: the last table of
// BenchmarkWorkerTable, for profiling the pipeline (REACTIVATOR_BENCH_CPUPROFILE=file profiles
// the worker process).
func BenchmarkPipeline(b *testing.B) {
	if b.N > 1 {
		b.Skip("a table, not a loop: run with -benchtime 1x")
	}
	pipelineTable(b)
}

func pipelineTable(b *testing.B) {
	fmt.Println()
	fmt.Println("### Without a limit: the whole pipeline against the fake (0 ms latency) and the asynq ceiling, each on a private redis-server")
	fmt.Println()
	fmt.Println("| what | rows | rows/s | its CPU µs / row | Redis CPU µs / row | Redis commands / row (the most called) |")
	fmt.Println("|---|---:|---:|---:|---:|---|")
	const n = 20000
	alone := benchUnlimited(b, n, false)
	pipeline := benchUnlimited(b, n, true)
	ceiling := benchBareAsynq(b, n)
	withCall := benchAsynqCall(b, n, false)
	queuing := benchAsynqCall(b, n, true)
	leastCall := benchAsynqEmptyCall(b, n)
	fmt.Printf("| pipeline beside the fake / ceiling (aim: 0.7 or more) | | %.2f | | | |\n", pipeline.rate/ceiling.rate)
	fmt.Printf("| worker process / ceiling | | %.2f | | | |\n", alone.rate/ceiling.rate)
	fmt.Printf("| pipeline beside the fake / asynq with the call (what the run store, window and handler cost) | | %.2f | | | |\n", pipeline.rate/withCall.rate)
	fmt.Printf("| asynq with the call, queued while it drains / ceiling (the window's place: its rows become tasks inside the timed span) | | %.2f | | | |\n", queuing.rate/ceiling.rate)
	fmt.Printf("| asynq with the least HTTP exchange / ceiling (the HTTP exchange alone) | | %.2f | | | |\n", leastCall.rate/ceiling.rate)
	// The ceiling keeps the machine's cores about as busy as they get; 0.7 of its rate on the
	// same cores leaves each row the CPU below, for everything: asynq, the call, the fake
	// answering it, the run store and Redis.
	cores := ceiling.rate * ceiling.total() / 1e6
	fmt.Printf("| CPU a row may take at 0.7 of the ceiling (the %.2f cores the ceiling kept busy, at 0.7 of its rate) | | | %.0f (this process and Redis) | | |\n",
		cores, cores*1e6/(0.7*ceiling.rate))
	fmt.Printf("| CPU a row took: asynq with the call; the pipeline beside the fake | | | %.0f; %.0f | | |\n", withCall.total(), pipeline.total())
	fmt.Println()
}

// benchAsynqCall times a bare asynq server whose handler makes the row's reactivate call, with
// the same Stytch client over HTTP to the same kind of fake, and records nothing: asynq's
// dequeue and done plus the HTTP exchange, without the run store, the window or the stop rule.
// The fake answers in this process, as it does for the pipeline. With duringDrain the tasks are
// queued by asynq's client from the moment the server starts, as the window queues the
// pipeline's rows while it drains; otherwise they are queued before the clock starts.
func benchAsynqCall(b *testing.B, n int, duringDrain bool) drained {
	_, rdb := privateRedis(b)
	fake := fakeidp.NewStytch(projectID, secret)
	fake.AddOrg(orgID, "acme")
	url, stop := fakeidp.Serve(fake)
	b.Cleanup(stop)
	client, err := stytch.New(stytch.Config{ProjectID: projectID, Secret: secret, BaseURL: url})
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		fake.AddMember(orgID, member(i), "deleted", true)
	}
	// Redis counts from before the tasks are queued, as for the no-op server.
	before := redisStats(b, rdb)
	cl := asynq.NewClientFromRedisClient(rdb)
	queue := func() error {
		for i := 1; i <= n; i++ {
			if _, err := cl.Enqueue(asynq.NewTask("bare", []byte(member(i)), asynq.Queue("bare"))); err != nil {
				return err
			}
		}
		return nil
	}
	what := "bare asynq server whose handler makes the row's call with the same client to a fake in process and records nothing"
	var during func() error
	if duringDrain {
		during = queue
	} else if err := queue(); err != nil {
		b.Fatal(err)
	}
	var bad atomic.Int64
	rate := drainBare(b, rdb, n, what, before, during, func(ctx context.Context, t *asynq.Task) {
		if res := client.Reactivate(ctx, jobs.Row{Provider: jobs.Stytch, OrgID: orgID, MemberID: string(t.Payload())}); res.Class != jobs.ClassReactivated {
			bad.Add(1)
		}
	})
	if bad.Load() != 0 {
		b.Errorf("%d of %d calls were not reactivated", bad.Load(), n)
	}
	return rate
}

// benchAsynqEmptyCall times a bare asynq server whose handler makes the cheapest HTTP exchange
// there is: a POST without a body to a server in this process that answers 204 without reading
// or writing anything, over kept connections (the provider clients' transport). No handler that
// makes one provider call a task can do better on this machine; the ratio of this line to the
// ceiling bounds every pipeline of one task a row.
func benchAsynqEmptyCall(b *testing.B, n int) drained {
	_, rdb := privateRedis(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(srv.Close)
	hc := httpapi.NewClient(10 * time.Second)
	before := redisStats(b, rdb)
	cl := asynq.NewClientFromRedisClient(rdb)
	for i := range n {
		if _, err := cl.Enqueue(asynq.NewTask("bare", []byte(strconv.Itoa(i)), asynq.Queue("bare"))); err != nil {
			b.Fatal(err)
		}
	}
	var bad atomic.Int64
	rate := drainBare(b, rdb, n, "bare asynq server whose handler makes an empty HTTP exchange (204, no body) with a server in process", before, nil,
		func(ctx context.Context, _ *asynq.Task) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
			resp, err := hc.Do(req)
			if err != nil {
				bad.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				bad.Add(1)
			}
		})
	if bad.Load() != 0 {
		b.Errorf("%d of %d exchanges failed", bad.Load(), n)
	}
	return rate
}

// processCPU returns this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childCPU returns a finished child's user+system CPU time.
func childCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func benchLimited(b *testing.B, limit, procs int) {
	bd := setup(b)
	n := limit * 20 // about 20 seconds of calls: ramp-up and tail weigh little
	burst := Limit{PerSecond: float64(limit)}.burst(float64(limit))
	bd.stytch.SetFaults(fakeidp.Faults{Latency: 50 * time.Millisecond})
	// The fake enforces the same rate over 100 ms worth of burst, as a provider measuring short
	// windows would.
	bd.stytch.SetRateLimit(fakeidp.RateLimit{PerSecond: limit, Burst: max(1, limit/10)})
	runID := fmt.Sprintf("bench-%d-%d", limit, procs)
	ingestDeleted(b, bd.rdb, bd.stytch, runID, n)
	var kids []*exec.Cmd
	for range procs {
		kids = append(kids, bd.startChildConc(float64(limit), 200))
	}
	r := bd.waitFinished(runID, 10*time.Minute)
	if r.Counts[jobs.Reactivated] != n {
		b.Errorf("run %s: counts %v, want all %d rows reactivated", runID, r.Counts, n)
	}
	var cpu time.Duration
	for _, k := range kids {
		_ = k.Process.Signal(syscall.SIGTERM)
		_ = k.Wait()
		cpu += childCPU(k)
	}
	// Achieved rate over the calls' span in whole seconds, from the fake's own histogram.
	h := bd.stytch.Histogram()
	lo, hi := int64(1<<62), int64(0)
	for s := range h {
		lo, hi = min(lo, s), max(hi, s)
	}
	// The first and last seconds are partial: measure over the full seconds between them.
	full := 0
	for s, c := range h {
		if s != lo && s != hi {
			full += c
		}
	}
	achieved := float64(full) / float64(max(hi-lo-1, 1))
	fmt.Printf("| %d | %d | %d | %.1f | %.3f | %d | %d | %d | %.3f |\n", limit, procs, n, achieved, achieved/float64(limit),
		bd.stytch.MaxPerSecond(), limit+burst, bd.stytch.Count429(), cpu.Seconds()*1000/float64(r.Done))
}

// benchUnlimited ingests n rows as `reactivator ingest` does (into the run store, no asynq task),
// then times one worker built as `reactivator worker` builds it (benchProcess), without a limit,
// from its start to the run's finish: the window queues the rows, the handler calls the fake
// over HTTP and records each outcome. besideFake runs it in this process beside the fake, the
// layout of the asynq lines it is compared with; otherwise it is a process of its own, whose CPU
// is its alone.
func benchUnlimited(b *testing.B, n int, besideFake bool) drained {
	srv, rdb := privateRedis(b)
	fake := fakeidp.NewStytch(projectID, secret)
	fake.AddOrg(orgID, "acme")
	url, stop := fakeidp.Serve(fake)
	b.Cleanup(stop)
	runID := "bench-free"
	ingestDeleted(b, rdb, fake, runID, n)
	store := jobs.NewStore(rdb)
	before, cpu0 := redisStats(b, rdb), processCPU()
	start := time.Now()
	var (
		kid  *exec.Cmd
		done = make(chan error, 1)
	)
	ctx, cancel := context.WithCancel(context.Background())
	if besideFake {
		p, err := benchProcess(srv.URL(0), url)
		if err != nil {
			b.Fatal(err)
		}
		go func() { done <- p.Run(ctx) }()
	} else {
		kid = startBenchWorker(b, srv.URL(0), url)
	}
	waitFor(b, "the run to finish", 10*time.Minute, func() bool {
		r, err := store.Run(context.Background(), runID)
		return err == nil && r.State == jobs.RunFinished
	})
	el := time.Since(start)
	cmds, cpu := redisStats(b, rdb).minus(before), processCPU()-cpu0
	cancel()
	if besideFake {
		if err := <-done; err != nil {
			b.Error(err)
		}
	} else {
		_ = kid.Process.Signal(syscall.SIGTERM)
		_ = kid.Wait()
	}
	if c := fake.TotalCalls(); c != n {
		b.Errorf("calls to the fake = %d, want %d: one per row", c, n)
	}
	d := drained{rate: float64(n) / el.Seconds(), cpu: float64(cpu.Microseconds()) / float64(n), redis: float64(cmds.cpu.Microseconds()) / float64(n)}
	if besideFake {
		fmt.Printf("| reactivator worker (concurrency 100) in this process beside the fake, rows ingested beforehand | %d | %.0f | %.0f | %s |\n", n, d.rate, d.cpu, cmds.perRow(n))
		return d
	}
	fmt.Printf("| reactivator worker (1 process of its own, concurrency 100), rows ingested beforehand | %d | %.0f | %.0f | %s |\n", n, d.rate,
		float64(childCPU(kid).Microseconds())/float64(n), cmds.perRow(n))
	fmt.Printf("| the fake Stytch answering it (this benchmark's process, polling Redis every 5 ms besides) | | | %.0f | | |\n", d.cpu)
	d.cpu += float64(childCPU(kid).Microseconds()) / float64(n)
	return d
}

// ingestDeleted adds members 1..n to the fake, deleted with a verified email (each can be
// reactivated), and ingests their CSV as `reactivator ingest` does: the rows wait in the run store
// of rdb, no asynq task, until a worker's window queues them.
func ingestDeleted(b *testing.B, rdb redis.UniversalClient, fake *fakeidp.Stytch, runID string, n int) {
	b.Helper()
	var csv bytes.Buffer
	csv.WriteString("organization_id,member_id\n")
	for i := 1; i <= n; i++ {
		fake.AddMember(orgID, member(i), "deleted", true)
		fmt.Fprintf(&csv, "%s,%s\n", orgID, member(i))
	}
	in, err := ingest.New(ingest.Config{Store: jobs.NewStore(rdb), Enqueuer: asynq.NewClientFromRedisClient(rdb), RunID: runID})
	if err != nil {
		b.Fatal(err)
	}
	if res, err := in.Ingest(context.Background(), runID+".csv", bytes.NewReader(csv.Bytes())); err != nil || res.Queued != n {
		b.Fatalf("Ingest(%s) = %+v, %v; want %d queued", runID, res, err, n)
	}
}

// benchBareAsynq times a bare asynq server with a no-op handler draining n tasks queued before
// its clock starts: the ceiling of asynq's dequeue and done on this machine.
func benchBareAsynq(b *testing.B, n int) drained {
	_, rdb := privateRedis(b)
	before := redisStats(b, rdb)
	cl := asynq.NewClientFromRedisClient(rdb)
	for i := range n {
		if _, err := cl.Enqueue(asynq.NewTask("bare", []byte(strconv.Itoa(i)), asynq.Queue("bare"))); err != nil {
			b.Fatal(err)
		}
	}
	return drainBare(b, rdb, n, "bare asynq server, no-op handler", before, nil, func(context.Context, *asynq.Task) {})
}

// drained is what a line of the pipeline table measured: rows per second, and the CPU a row
// took in this process and in Redis, in µs.
type drained struct{ rate, cpu, redis float64 }

// total is the CPU a row took, this process and Redis together, in µs.
func (d drained) total() float64 { return d.cpu + d.redis }

// drainBare starts a bare asynq server (in process, concurrency 100) on the queue "bare" whose
// handler runs handle, times it draining n tasks (queued there before its clock starts, or by
// during, run from the moment it starts, when given), prints its line of the pipeline table
// (what, with Redis counted from before) and returns what it measured.
func drainBare(b *testing.B, rdb *redis.Client, n int, what string, before redisWork, during func() error, handle func(context.Context, *asynq.Task)) drained {
	var done atomic.Int64
	cpu0 := processCPU()
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 100, Queues: map[string]int{"bare": 1}, LogLevel: asynq.ErrorLevel,
		Logger: asynqlog.New(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	mux := asynq.NewServeMux()
	mux.HandleFunc("bare", func(ctx context.Context, t *asynq.Task) error { handle(ctx, t); done.Add(1); return nil })
	start := time.Now()
	if err := srv.Start(mux); err != nil {
		b.Fatal(err)
	}
	if during != nil {
		if err := during(); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, what+" to drain", 10*time.Minute, func() bool { return done.Load() >= int64(n) })
	el := time.Since(start)
	srv.Shutdown()
	cmds := redisStats(b, rdb).minus(before)
	when := "tasks queued beforehand"
	if during != nil {
		when = "tasks queued while it drains"
	}
	d := drained{rate: float64(n) / el.Seconds(), cpu: float64((processCPU() - cpu0).Microseconds()) / float64(n), redis: float64(cmds.cpu.Microseconds()) / float64(n)}
	fmt.Printf("| %s (in process, concurrency 100), %s | %d | %.0f | %.0f | %s |\n", what, when, n, d.rate, d.cpu, cmds.perRow(n))
	return d
}

// privateRedis starts a redis-server of the benchmark's own, so that its command counts are the
// benchmark's alone, and returns it with a client of its database 0.
func privateRedis(b *testing.B) (*redistest.Server, *redis.Client) {
	b.Helper()
	srv, err := redistest.Start(b.TempDir(), redistest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Stop)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = rdb.Close() })
	return srv, rdb
}

// waitFor polls until cond holds, failing the benchmark after limit.
func waitFor(b *testing.B, what string, limit time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// redisWork is what a redis-server did: the calls of each command (INFO commandstats, the
// commands of scripts included) and its CPU time (INFO cpu, user and system).
type redisWork struct {
	calls map[string]int64
	cpu   time.Duration
}

func redisStats(b *testing.B, rdb *redis.Client) redisWork {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	w := redisWork{calls: map[string]int64{}}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		if name, rest, ok := strings.Cut(line, ":calls="); ok {
			calls, _, _ := strings.Cut(rest, ",")
			n, _ := strconv.ParseInt(calls, 10, 64)
			w.calls[strings.TrimPrefix(name, "cmdstat_")] = n
		}
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			w.cpu += time.Duration(f * float64(time.Second))
		}
	}
	return w
}

func (w redisWork) minus(before redisWork) redisWork {
	d := redisWork{calls: map[string]int64{}, cpu: w.cpu - before.cpu}
	for k, v := range w.calls {
		if k != "info" && v > before.calls[k] {
			d.calls[k] = v - before.calls[k]
		}
	}
	return d
}

// perRow says Redis's CPU per row, then its commands per row in all and the five most called.
func (w redisWork) perRow(n int) string {
	var total int64
	names := make([]string, 0, len(w.calls))
	for k, v := range w.calls {
		total += v
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		return w.calls[names[i]] > w.calls[names[j]] || w.calls[names[i]] == w.calls[names[j]] && names[i] < names[j]
	})
	parts := make([]string, 0, 5)
	for _, k := range names[:min(5, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(w.calls[k])/float64(n)))
	}
	return fmt.Sprintf("%.0f | %.1f (%s)", float64(w.cpu.Microseconds())/float64(n), float64(total)/float64(n), strings.Join(parts, ", "))
}

// benchChildEnv names the environment of a worker process the benchmarks start: the test binary
// re-executes itself as one `reactivator worker` process (benchWorker).
const benchChildEnv = "REACTIVATOR_BENCH_WORKER_CHILD"

func init() {
	if os.Getenv(benchChildEnv) == "" {
		return
	}
	os.Exit(benchWorker())
}

// benchWorker serves Stytch without a limit as `reactivator worker` does with --rate stytch=0
// (benchProcess), until SIGTERM. REACTIVATOR_BENCH_CPUPROFILE names a file for its CPU profile.
func benchWorker() int {
	p, err := benchProcess(os.Getenv("BENCH_REDIS_URL"), os.Getenv("BENCH_STYTCH_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if path := os.Getenv("REACTIVATOR_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := p.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// benchProcess builds the worker `reactivator worker --rate stytch=0` runs: a Process (the
// server and its janitor) over a client made from the Redis URL by redisconn, with the command's
// defaults, serving Stytch at stytchURL.
func benchProcess(redisURL, stytchURL string) (Process, error) {
	rdb, err := redisconn.NewClient(redisURL, "")
	if err != nil {
		return Process{}, err
	}
	c, err := stytch.New(stytch.Config{ProjectID: projectID, Secret: secret, BaseURL: stytchURL})
	if err != nil {
		return Process{}, err
	}
	return Process{Config: Config{Redis: rdb, Callers: map[jobs.Provider]Caller{jobs.Stytch: c},
		Limits: map[jobs.Provider]Limit{jobs.Stytch: {}}, Concurrency: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Retention: Retention(jobs.DefaultRetention)}, nil
}

// startBenchWorker starts a benchWorker process; it is killed when the benchmark ends.
func startBenchWorker(b *testing.B, redisURL, stytchURL string) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1", "BENCH_REDIS_URL="+redisURL, "BENCH_STYTCH_URL="+stytchURL)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// startChildConc starts a worker process with the given rate and concurrency; env is added to
// its environment.
func (b *bundle) startChildConc(rate float64, conc int, env ...string) *exec.Cmd {
	b.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "CHILD_REDIS_ADDR="+b.redis.Addr, "CHILD_REDIS_DB="+strconv.Itoa(b.redis.DB),
		"CHILD_STYTCH_URL="+b.url, "CHILD_RATE="+strconv.FormatFloat(rate, 'f', -1, 64), "CHILD_CONCURRENCY="+strconv.Itoa(conc))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// BenchmarkStopTable prints the stop rule's table (make bench): a worker process serving a run
// (ingested as `reactivator ingest` does, queued by the worker's window) at 5, 50 and 500 req/s
// (fake latency 50 ms, concurrency 200, so most tasks wait for the budget) gets SIGTERM; the fake counts the requests that arrive after the signal (aim: 0), and the table
// says how long the process took to exit.
func BenchmarkStopTable(b *testing.B) {
	if b.N > 1 {
		b.Skip("a table, not a loop: run with -benchtime 1x")
	}
	fmt.Println("\n### The stop rule: SIGTERM to a worker process mid-run (fake Stytch, 50 ms latency, concurrency 200)")
	fmt.Println()
	fmt.Println("| limit req/s | calls before the signal | requests after the signal | later than 100 ms after it | signal to exit |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, limit := range []int{5, 50, 500} {
		bd := setup(b)
		bd.stytch.SetFaults(fakeidp.Faults{Latency: 50 * time.Millisecond})
		ingestDeleted(b, bd.rdb, bd.stytch, "bench-stop", max(limit*10, 200))
		kid := bd.startChildConc(float64(limit), 200)
		want := max(limit*2, 5) // about two seconds of calls
		bd.wait("calls before the signal", time.Minute, func() bool { return bd.stytch.TotalCalls() >= want })
		before := bd.stytch.TotalCalls()
		at := time.Now()
		if err := kid.Process.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
		_ = kid.Wait()
		exit := time.Since(at)
		fmt.Printf("| %d | %d | %d | %d | %s |\n", limit, before, bd.stytch.RequestsSince(at),
			bd.stytch.RequestsSince(at.Add(100*time.Millisecond)), exit.Round(time.Millisecond))
	}
	fmt.Println()
}
