package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

// childEnv names the environment of a worker process started by these tests: the test binary
// re-executes itself as a real worker process.
const childEnv = "REACTIVATOR_TEST_WORKER_CHILD"

func init() {
	if os.Getenv(childEnv) == "" {
		return
	}
	os.Exit(childWorker())
}

// childWorker serves the Stytch queue of the Redis and fake named in the environment until killed.
func childWorker() int {
	db, _ := strconv.Atoi(os.Getenv("CHILD_REDIS_DB"))
	opt := asynq.RedisClientOpt{Addr: os.Getenv("CHILD_REDIS_ADDR"), DB: db}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: db})
	c, err := stytch.New(stytch.Config{ProjectID: projectID, Secret: secret, BaseURL: os.Getenv("CHILD_STYTCH_URL"), Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rate, _ := strconv.ParseFloat(os.Getenv("CHILD_RATE"), 64)
	conc, _ := strconv.Atoi(os.Getenv("CHILD_CONCURRENCY"))
	// CHILD_VERDICT names a file for the stop rule's verdict on the process's calls, judged
	// against the moment its server was told to stop; with it, CHILD_HOLD names the file a
	// beginHold creates when it holds a task's Begin until that moment.
	verdictPath := os.Getenv("CHILD_VERDICT")
	stopNoted := make(chan struct{})
	var caller Caller = c
	var calls *checkedCalls
	if verdictPath != "" {
		checks := newPreCallChecks()
		calls = &checkedCalls{Caller: c, checks: checks}
		caller = calls
		if held := os.Getenv("CHILD_HOLD"); held != "" {
			rdb.AddHook(&beginHold{armed: func() bool { return calls.count() >= 3 }, release: stopNoted, heldFile: held})
		}
		rdb.AddHook(checks) // after the hold: a held Begin's check is noted when it leaves
	}
	s, err := New(Config{Redis: rdb, Callers: map[jobs.Provider]Caller{jobs.Stytch: caller},
		Limits: map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: rate}}, Concurrency: conc, MaxAttempts: 10,
		Backoff: Backoff{Base: 50 * time.Millisecond, Cap: 200 * time.Millisecond}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sig, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The server's context ends with the signal's; the moment is noted after it ended, so every
	// check of the stop from that moment on sees it.
	ctx, cancel := context.WithCancel(context.Background())
	stoppedAt := make(chan time.Time, 1)
	context.AfterFunc(sig, func() { cancel(); stoppedAt <- time.Now(); close(stopNoted) })
	if err := s.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if verdictPath != "" {
		data, err := json.Marshal(calls.verdict(<-stoppedAt))
		if err == nil {
			err = os.WriteFile(verdictPath, data, 0o600)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// startChild starts a worker process with concurrency 10; it is killed when the test ends.
func (b *bundle) startChild(rate float64) *exec.Cmd { return b.startChildConc(rate, 10) }

// arrivals is a Caller that notes when each reactivate call reaches it, by the wall clock (the
// clock Redis's TIME reads, on which the budget's slots are reserved).
type arrivals struct {
	Caller
	mu sync.Mutex
	at []time.Time
}

func (a *arrivals) Reactivate(ctx context.Context, r jobs.Row) jobs.Result {
	now := time.Now().Round(0)
	a.mu.Lock()
	a.at = append(a.at, now)
	a.mu.Unlock()
	return a.Caller.Reactivate(ctx, r)
}

// sorted returns the arrival times, earliest first.
func (a *arrivals) sorted() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.SortedFunc(slices.Values(a.at), time.Time.Compare)
}

// clockSlack covers the rounding of the budget's microseconds, and nothing of a machine's load.
const clockSlack = 2 * time.Millisecond

// budgetAllows is the most calls a fresh budget of perSecond with burst lets out at or before t,
// counted from t0 (wall clock, taken before the first reservation). Slot k (from 1) lies at
// t0 + (k-burst)/perSecond or later on Redis's clock, and no call leaves before its slot: so this
// bound holds however late the calls are, on a quiet machine or a loaded one.
func budgetAllows(t0, t time.Time, perSecond float64, burst int) int {
	return int(math.Floor(t.Add(clockSlack).Sub(t0).Seconds()*perSecond)) + burst
}

// TestThreeWorkersShareOneLimit runs three workers on one budget: by any moment, the calls that
// reached the provider are no more than the one budget allows by then (counted, not timed).
func TestThreeWorkersShareOneLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n, limit = 240, 40
	rows := b.deletedMembers(n)
	b.queue("run-l", rows)
	calls := &arrivals{Caller: b.client}
	t0 := time.Now().Round(0)
	for range 3 {
		cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: calls})
		cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: limit}}
		b.start(cfg)
	}
	b.waitFinished("run-l", 60*time.Second)
	burst := Limit{PerSecond: limit}.burst(limit)
	at := calls.sorted()
	for k, a := range at {
		if allowed := budgetAllows(t0, a, limit, burst); k+1 > allowed {
			t.Fatalf("call %d arrived %s after the start, when one budget of %d/s burst %d allows %d: the workers do not share it",
				k+1, a.Sub(t0), limit, burst, allowed)
		}
	}
	if got := len(at); got != n {
		t.Fatalf("calls = %d, want %d (one per row)", got, n)
	}
	if got := b.stytch.TotalCalls(); got != n {
		t.Fatalf("calls at the provider = %d, want %d (one per row)", got, n)
	}
}

func TestKilledWorkerLosesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for asynq's lease recovery (about a minute)")
	}
	b := setup(t)
	const n = 300
	rows := b.deletedMembers(n)
	b.stytch.SetFaults(fakeidp.Faults{Latency: 100 * time.Millisecond})
	b.queue("run-k", rows)
	first := b.startChild(50)
	b.wait("the first worker to be mid-run", 30*time.Second, func() bool { return b.stytch.TotalCalls() >= n/3 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	b.startChild(50)
	r := b.waitFinished("run-k", 4*time.Minute)

	twice := 0
	for i := 1; i <= n; i++ {
		o := b.outcome("run-k", i+1)
		if o.Outcome != jobs.Reactivated {
			t.Errorf("line %d = %s (%s), want reactivated", i+1, o.Outcome, o.Message)
		}
		switch c := b.stytch.Calls(orgID + "/" + member(i)); {
		case c == 2:
			twice++
		case c != 1:
			t.Errorf("member %d called %d times, want 1 (2 if in flight at the kill)", i, c)
		}
	}
	if twice > 10 {
		t.Errorf("%d members called twice, want at most the 10 in flight at the kill", twice)
	}
	if r.Done != n {
		t.Errorf("rows with an outcome = %d, want %d", r.Done, n)
	}
}

func TestGracefulShutdownLosesAndDoublesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 120
	rows := b.deletedMembers(n)
	b.stytch.SetFaults(fakeidp.Faults{Latency: 300 * time.Millisecond})
	b.queue("run-g", rows)
	first := b.startChild(0)
	b.wait("the first worker to be mid-run", 30*time.Second, func() bool { return b.stytch.TotalCalls() >= n/4 })
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("worker after SIGTERM exited with %v, want a clean exit", err)
	}
	b.startChild(0)
	b.waitFinished("run-g", 2*time.Minute)
	for i := 1; i <= n; i++ {
		if o := b.outcome("run-g", i+1); o.Outcome != jobs.Reactivated || o.Reason == jobs.ReasonConfirmedOnRetry {
			t.Errorf("line %d = %s %s, want reactivated by its one call", i+1, o.Outcome, o.Reason)
		}
		if c := b.stytch.Calls(orgID + "/" + member(i)); c != 1 {
			t.Errorf("member %d called %d times, want 1: in-flight calls finish on SIGTERM", i, c)
		}
	}
}

func TestAutoRateFindsTheProvidersLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n, fakeLimit = 600, 30
	rows := b.deletedMembers(n)
	b.stytch.SetRateLimit(fakeidp.RateLimit{PerSecond: fakeLimit, Burst: 3})
	b.queue("run-auto", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 5, Auto: true, MaxRate: 400}}
	cfg.MaxAttempts = 50
	b.start(cfg)
	r := b.waitFinished("run-auto", 3*time.Minute)
	if r.Counts[jobs.Reactivated] != n {
		t.Fatalf("counts = %v, want all %d reactivated (429s are retried)", r.Counts, n)
	}
	settled, ok, err := b.store.AutoRate(b.ctx, jobs.Stytch)
	if err != nil || !ok {
		t.Fatalf("AutoRate = %v, %v, %v; want a recorded rate", settled, ok, err)
	}
	if settled < fakeLimit/3 || settled > fakeLimit*2 || b.stytch.Count429() == 0 {
		t.Fatalf("auto rate settled on %.1f/s after %d 429s; want it near the provider's %d/s (found by its 429s)", settled, b.stytch.Count429(), fakeLimit)
	}
	t.Logf("auto rate settled on %.1f/s against a provider limit of %d/s, after %d 429s", settled, fakeLimit, b.stytch.Count429())
	if got := b.stytch.MaxPerSecond(); got > 400 {
		t.Fatalf("busiest second = %d, never above --max-rate 400", got)
	}
}
