package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/internal/asynqlog"
	"reactivator/internal/fakeidp"
)

// BenchmarkWorkerTable prints the workers' performance table (make bench): achieved rate against
// the limit with 1 and 3 worker processes, the busiest calendar second, 429s provoked when the
// fake enforces the same limit, worker CPU per 1000 rows; and the unlimited pipeline beside a bare
// asynq server with a no-op handler.
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
	fmt.Println()
	fmt.Println("### Without a limit: the whole pipeline against the fake (0 ms latency) and the asynq ceiling")
	fmt.Println()
	fmt.Println("| what | rows | rows/s |")
	fmt.Println("|---|---:|---:|")
	pipeline := benchUnlimited(b, 20000)
	ceiling := benchBareAsynq(b, 20000)
	fmt.Printf("| pipeline / ceiling (aim: 0.7 or more) | | %.2f |\n", pipeline/ceiling)
	fmt.Println()
}

func benchRows(bd *bundle, runID string, n int) { bd.queue(runID, bd.deletedMembers(n)) }

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
	benchRows(bd, runID, n)
	var kids []*exec.Cmd
	for range procs {
		kids = append(kids, bd.startChildConc(float64(limit), 200))
	}
	r := bd.waitFinished(runID, 10*time.Minute)
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

func benchUnlimited(b *testing.B, n int) float64 {
	bd := setup(b)
	benchRows(bd, "bench-free", n)
	start := time.Now()
	kid := bd.startChildConc(0, 100)
	bd.waitFinished("bench-free", 10*time.Minute)
	el := time.Since(start)
	_ = kid.Process.Signal(syscall.SIGTERM)
	_ = kid.Wait()
	fmt.Printf("| reactivator worker (1 process, concurrency 100) | %d | %.0f |\n", n, float64(n)/el.Seconds())
	return float64(n) / el.Seconds()
}

func benchBareAsynq(b *testing.B, n int) float64 {
	bd := setup(b)
	cl := asynq.NewClient(bd.redis)
	defer cl.Close()
	for i := range n {
		if _, err := cl.Enqueue(asynq.NewTask("noop", []byte(strconv.Itoa(i)), asynq.Queue("bare"))); err != nil {
			b.Fatal(err)
		}
	}
	var done atomic.Int64
	srv := asynq.NewServer(bd.redis, asynq.Config{Concurrency: 100, Queues: map[string]int{"bare": 1}, LogLevel: asynq.ErrorLevel,
		Logger: asynqlog.New(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	mux := asynq.NewServeMux()
	mux.HandleFunc("noop", func(context.Context, *asynq.Task) error { done.Add(1); return nil })
	start := time.Now()
	if err := srv.Start(mux); err != nil {
		b.Fatal(err)
	}
	bd.wait("the bare asynq server to drain", 10*time.Minute, func() bool { return done.Load() >= int64(n) })
	el := time.Since(start)
	srv.Shutdown()
	fmt.Printf("| bare asynq server, no-op handler (in process, concurrency 100) | %d | %.0f |\n", n, float64(n)/el.Seconds())
	return float64(n) / el.Seconds()
}

// startChildConc starts a worker process with the given rate and concurrency.
func (b *bundle) startChildConc(rate float64, conc int) *exec.Cmd {
	b.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "CHILD_REDIS_ADDR="+b.redis.Addr, "CHILD_REDIS_DB="+strconv.Itoa(b.redis.DB),
		"CHILD_STYTCH_URL="+b.url, "CHILD_RATE="+strconv.FormatFloat(rate, 'f', -1, 64), "CHILD_CONCURRENCY="+strconv.Itoa(conc))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// BenchmarkStopTable prints the stop rule's table (make bench): a worker process serving a run at
// 5, 50 and 500 req/s (fake latency 50 ms, concurrency 200, so most tasks wait for the budget)
// gets SIGTERM; the fake counts the requests that arrive after the signal (aim: 0), and the table
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
		benchRows(bd, "bench-stop", max(limit*10, 200))
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
