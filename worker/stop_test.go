package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/fakeidp"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// startStoppable runs a worker; its stop cancels the worker's context, notes the time right
// after (at or after the instant the worker sees the stop), then waits for it to return.
func (b *bundle) startStoppable(cfg Config) (stop func() (stoppedAt time.Time)) {
	b.t.Helper()
	s, err := New(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() (stoppedAt time.Time) {
		once.Do(func() {
			cancel()
			stoppedAt = time.Now().Round(0)
			if err := <-done; err != nil {
				b.t.Errorf("worker Run = %v", err)
			}
		})
		return stoppedAt
	}
	b.t.Cleanup(func() { stop() })
	return stop
}

// TestStopSendsNothingAfterIt stops a worker whose tasks are waiting for a slow rate budget:
// no task whose budget slot lies after the stop is called (counted: the worker sends no more
// calls than the budget allowed by the stop), the tasks go back uncalled, and a new worker then
// finishes the run calling every account exactly once.
func TestStopSendsNothingAfterIt(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{5, 50} {
		b := setup(t)
		const n = 150
		rows := b.deletedMembers(n)
		runID := "run-stop"
		b.queue(runID, rows)
		cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
		cfg.Concurrency = 50
		cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: rate}}
		t0 := time.Now().Round(0)
		stop := b.startStoppable(cfg)
		b.wait("a few calls", 20*time.Second, func() bool { return b.stytch.TotalCalls() >= 5 })
		stoppedAt := stop()
		before := b.stytch.TotalCalls()
		if allowed := budgetAllows(t0, stoppedAt, rate, 1); before > allowed {
			t.Fatalf("at %g/s: the worker sent %d calls, want at most the %d whose budget slots came before the stop (%s after the start)",
				rate, before, allowed, stoppedAt.Sub(t0))
		}
		r, _ := b.store.Run(b.ctx, runID)
		if r.Done != before {
			t.Errorf("at %g/s: %d rows have an outcome after %d calls: every call's outcome is recorded before exit", rate, r.Done, before)
		}

		cfg.Limits = nil
		b.start(cfg)
		r = b.waitFinished(runID, time.Minute)
		if r.Counts[jobs.Reactivated] != n {
			t.Fatalf("at %g/s: after the restart counts = %v, want %d reactivated", rate, r.Counts, n)
		}
		for i := 1; i <= n; i++ {
			if c := b.stytch.Calls(orgID + "/" + member(i)); c != 1 {
				t.Errorf("at %g/s: member %d called %d times, want 1", rate, i, c)
			}
			if o := b.outcome(runID, i+1); o.Attempts != 1 {
				t.Errorf("at %g/s: line %d took %d attempts, want 1: a task sent back by a stop uses none", rate, i+1, o.Attempts)
			}
		}
	}
}

// BenchmarkStopWithTasksWaitingForTheBudget times the stop of a worker whose 50 tasks wait for a
// 5/s budget: their waits end with the stop, so it takes about the time of the calls on the
// wire, not the seconds of the budget nor ShutdownTimeout (run it with -benchtime 1x).
func BenchmarkStopWithTasksWaitingForTheBudget(bm *testing.B) {
	for range bm.N {
		bm.StopTimer()
		b := setup(bm)
		b.queue("run-stop", b.deletedMembers(150))
		cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
		cfg.Concurrency = 50
		cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 5}}
		stop := b.startStoppable(cfg)
		b.wait("a few calls", 20*time.Second, func() bool { return b.stytch.TotalCalls() >= 5 })
		bm.StartTimer()
		stop()
	}
}

// preCallChecks is a Redis hook noting, for each asynq task, when the last command its handler
// sent with the task's context left for Redis. A handler's last round trip before its provider
// call is the stop rule's check (Begin, which reads the fleet's pause in the same round trip):
// a call whose check left after the pause was in Redis must not be sent, however late the
// machine runs it.
type preCallChecks struct {
	mu   sync.Mutex
	last map[string]time.Time // by task id
}

func newPreCallChecks() *preCallChecks { return &preCallChecks{last: map[string]time.Time{}} }

func (c *preCallChecks) note(ctx context.Context) {
	id, ok := asynq.GetTaskID(ctx)
	if !ok {
		return // not a task's command: asynq's own, or the test's
	}
	now := time.Now()
	c.mu.Lock()
	c.last[id] = now
	c.mu.Unlock()
}

// lastOf returns when the task's last command left for Redis.
func (c *preCallChecks) lastOf(id string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.last[id]
	return at, ok
}

func (c *preCallChecks) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *preCallChecks) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.note(ctx)
		return next(ctx, cmd)
	}
}

func (c *preCallChecks) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.note(ctx)
		return next(ctx, cmds)
	}
}

// checkedCall is one provider call and when its check before it left for Redis.
type checkedCall struct {
	line      int
	checkedAt time.Time
	checked   bool // false: no command of its task was seen, so the test cannot judge the call
}

// checkedCalls is a Caller that notes, for each call, when its pre-call check left for Redis.
type checkedCalls struct {
	Caller
	checks *preCallChecks
	mu     sync.Mutex
	calls  []checkedCall
}

func (c *checkedCalls) Reactivate(ctx context.Context, r jobs.Row) jobs.Result {
	c.record(ctx, r.Line)
	return c.Caller.Reactivate(ctx, r)
}

// record notes a call for line's row and when its task's check before it left for Redis.
func (c *checkedCalls) record(ctx context.Context, line int) {
	call := checkedCall{line: line}
	if id, ok := asynq.GetTaskID(ctx); ok {
		call.checkedAt, call.checked = c.checks.lastOf(id)
	}
	c.mu.Lock()
	c.calls = append(c.calls, call)
	c.mu.Unlock()
}

// checkedLookups is checkedCalls on a client that also looks accounts up (a jobs.Resolver): each
// look-up read is a call too, judged as the reactivate calls are.
type checkedLookups struct{ *checkedCalls }

func (c checkedLookups) Resolve(ctx context.Context, r jobs.Row) ([]jobs.Account, error) {
	c.record(ctx, r.Line)
	return c.Caller.(jobs.Resolver).Resolve(ctx, r)
}

// count returns how many calls were made.
func (c *checkedCalls) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// verdict judges the calls against a stop that was observable in Redis, or by the handler's
// checks, from the moment stop on.
func (c *checkedCalls) verdict(stop time.Time) stopVerdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := stopVerdict{Calls: len(c.calls)}
	for _, call := range c.calls {
		switch {
		case !call.checked:
			v.Unjudged = append(v.Unjudged, call.line)
		case call.checkedAt.After(stop):
			v.Late = append(v.Late, lateCall{Line: call.line, By: call.checkedAt.Sub(stop)})
		}
	}
	return v
}

// stopVerdict is what the stop rule's tests judge, counted by the order of each call's check and
// the stop, not by a time allowed for requests on the wire: a loaded machine may run a call late,
// but never one whose check came after the stop. It crosses a process boundary as JSON (a worker
// process judges its own calls by its own clock).
type stopVerdict struct {
	Calls    int        // every call made
	Late     []lateCall // calls whose check before the call left for Redis after the stop
	Unjudged []int      // lines of calls with no command of their task seen before them
}

// lateCall is a call sent although its check came after the stop, By after it.
type lateCall struct {
	Line int
	By   time.Duration
}

// check fails the test on a late call, or on a call it cannot judge; stop says what the stop was.
func (v stopVerdict) check(t testing.TB, stop string) {
	t.Helper()
	if len(v.Unjudged) > 0 {
		t.Fatalf("%d calls (first line %d) with no Redis command of their task seen before them: the test cannot tell when they were checked", len(v.Unjudged), v.Unjudged[0])
	}
	if len(v.Late) > 0 {
		t.Fatalf("%d calls sent although their check before the call came after %s (first: line %d, checked %s after it)",
			len(v.Late), stop, v.Late[0].Line, v.Late[0].By)
	}
}

// beginHold is a Redis hook that, once armed, holds every Begin (the pipeline of the pause read
// and the begin script) until release is closed, and creates heldFile when it holds the first:
// tasks whose Begin is on its way to Redis when the process is told to stop, which only the
// handler's look at the stop right after Begin keeps from calling. On a client it goes before
// the preCallChecks, so a held Begin's check is noted when it leaves.
type beginHold struct {
	armed    func() bool
	release  <-chan struct{}
	heldFile string
	once     sync.Once
}

func (h *beginHold) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *beginHold) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *beginHold) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 2 && cmds[0].Name() == "hget" && cmds[1].Name() == "evalsha" && h.armed() {
			h.once.Do(func() { _ = os.WriteFile(h.heldFile, nil, 0o600) })
			<-h.release
		}
		return next(ctx, cmds)
	}
}

// checkedRedis returns a client of its own on the test's Redis, watched by checks: a worker's
// connection, as another process has.
func (b *bundle) checkedRedis(checks *preCallChecks) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: b.redis.Addr, DB: b.redis.DB})
	b.t.Cleanup(func() { _ = rdb.Close() })
	rdb.AddHook(checks)
	return rdb
}

// TestRevokedCredentialsStopTheFleet revokes the credentials mid-run under two workers: once the
// first refusal's pause is in Redis, no call whose check came after it is sent, by either worker
// (counted by the order of the check and the pause, not by a time allowed for requests on the
// wire), and nothing is sent until resume.
func TestRevokedCredentialsStopTheFleet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 200
	rows := b.deletedMembers(n)
	b.stytch.SetFaults(fakeidp.Faults{Latency: 20 * time.Millisecond})
	b.queue("run-revoke", rows)
	checks := newPreCallChecks()
	calls := &checkedCalls{Caller: b.client, checks: checks}
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: calls})
	cfg.Concurrency = 50
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 20}}
	// Each worker its own connection, as another process has, both watched by the hook.
	var stops []func()
	for range 2 {
		c := cfg
		c.Redis = b.checkedRedis(checks)
		stops = append(stops, b.start(c))
	}
	b.wait("25 calls", 30*time.Second, func() bool { return b.stytch.TotalCalls() >= 25 })
	revokedAt := time.Now()
	b.stytch.SetSecret("rotated-away")
	// pausedAt is a moment at which the pause is surely in Redis: taken right after a read found
	// it. The closer to the pause, the fewer calls a broken brake could hide before it.
	var pausedAt time.Time
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		_, ok, err := b.store.PauseOf(b.ctx, jobs.Stytch)
		if pausedAt = time.Now(); err == nil && ok {
			break
		}
		if pausedAt.After(deadline) {
			t.Fatal("no pause a minute after the credentials were revoked")
		}
	}
	time.Sleep(2 * time.Second) // tasks waiting for the budget would go out now if the brake failed
	calls.verdict(pausedAt).check(t, "the pause was in Redis")
	r, _ := b.store.Run(b.ctx, "run-revoke")
	if r.Counts[jobs.Failed] != 0 || r.Counts[jobs.Rejected] != 0 {
		t.Fatalf("rows burned by the pause: %v", r.Counts)
	}
	for _, stop := range stops {
		stop()
	}
	t.Logf("requests after the revocation: %d (those on the wire or checked before the pause)", b.stytch.RequestsSince(revokedAt))

	b.stytch.SetSecret(secret)
	if err := Resume(b.ctx, b.rdb, jobs.Stytch); err != nil {
		t.Fatal(err)
	}
	cfg.Limits = nil
	b.start(cfg)
	r = b.waitFinished("run-revoke", time.Minute)
	if r.Counts[jobs.Reactivated] != n {
		t.Fatalf("after resume counts = %v, want %d reactivated", r.Counts, n)
	}
}

// cancelMark is a Redis hook on the client that cancels a run: it notes when the run's cancelled
// mark is in Redis (its write answered), then holds the client for hold before Cancel goes on to
// sweep the rows, as the sweep of a big run takes that long. The tasks that come out meanwhile
// find their rows without an outcome: only Begin's own check of the mark stops their calls.
type cancelMark struct {
	hold time.Duration
	mu   sync.Mutex
	at   time.Time
}

// markedAt returns when the cancelled mark was in Redis.
func (c *cancelMark) markedAt() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at, !c.at.IsZero()
}

func (c *cancelMark) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *cancelMark) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if args := cmd.Args(); err == nil && cmd.Name() == "hset" && len(args) > 2 && args[2] == "cancelled" {
			c.mu.Lock()
			c.at = time.Now()
			c.mu.Unlock()
			time.Sleep(c.hold)
		}
		return err
	}
}

func (c *cancelMark) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestCancelSendsNothingAfterIt cancels a run whose tasks wait for the budget: no call whose
// check before the call (Begin, which reads the cancelled mark in the same script) left for
// Redis after the mark was there is sent, the sweep of the rows held back a second so that the
// tasks meanwhile meet Begin's check alone, and every called row ends reactivated, every other
// cancelled.
func TestCancelSendsNothingAfterIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 100
	rows := b.deletedMembers(n)
	b.queue("run-cancel", rows)
	checks := newPreCallChecks()
	calls := &checkedCalls{Caller: b.client, checks: checks}
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: calls})
	cfg.Redis = b.checkedRedis(checks)
	cfg.Concurrency = 50
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 10}}
	b.start(cfg)
	b.wait("a few calls", 20*time.Second, func() bool { return b.stytch.TotalCalls() >= 5 })
	mark := &cancelMark{hold: time.Second}
	rdb := redis.NewClient(&redis.Options{Addr: b.redis.Addr, DB: b.redis.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	rdb.AddHook(mark)
	if _, _, err := jobs.NewStore(rdb).Cancel(b.ctx, "run-cancel"); err != nil {
		t.Fatal(err)
	}
	cancelledAt, ok := mark.markedAt()
	if !ok {
		t.Fatal("Cancel wrote no cancelled mark the hook saw: the test cannot tell when the cancel was in Redis")
	}
	r := b.waitFinished("run-cancel", 30*time.Second)
	calls.verdict(cancelledAt).check(t, "the cancel was in Redis")
	if r.Counts[jobs.Cancelled]+r.Counts[jobs.Reactivated] != n || r.Counts[jobs.Reactivated] != b.stytch.TotalCalls() {
		t.Fatalf("counts %v after %d calls: every called row reactivated, every other cancelled", r.Counts, b.stytch.TotalCalls())
	}
	t.Logf("requests after the cancel: %d (those on the wire or checked before it)", b.stytch.RequestsSince(cancelledAt))
}

// TestUnpausedBehindOurBack lifts asynq's queue pause as the asynq web UI would while the
// provider is paused: the tasks that come out go back uncalled and unaged, and the worker puts
// the queue pause back.
func TestUnpausedBehindOurBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 40
	rows := b.deletedMembers(n)
	b.stytch.SetSecret("wrong")
	b.queue("run-unpause", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	stop := b.start(cfg)
	b.wait("the pause", 10*time.Second, func() bool { _, ok, _ := b.store.PauseOf(b.ctx, jobs.Stytch); return ok })
	stop()
	// A worker with --max-row-age 1s takes over once every waiting row is older than that: a
	// row that reached the age check while paused would end failed.
	time.Sleep(1100 * time.Millisecond)
	cfg.MaxRowAge = time.Second
	b.start(cfg)
	insp := asynq.NewInspector(b.redis)
	defer insp.Close()
	b.wait("asynq's queue pause", 10*time.Second, func() bool {
		qi, err := insp.GetQueueInfo(jobs.Stytch.Queue())
		return err == nil && qi.Paused
	})
	calls := b.stytch.TotalCalls()
	if err := insp.UnpauseQueue(jobs.Stytch.Queue()); err != nil {
		t.Fatal(err)
	}
	if _, err := insp.RunAllRetryTasks(jobs.Stytch.Queue()); err != nil {
		t.Fatal(err)
	}
	b.wait("the worker to pause the queue again", 10*time.Second, func() bool {
		qi, err := insp.GetQueueInfo(jobs.Stytch.Queue())
		return err == nil && qi.Paused
	})
	time.Sleep(1500 * time.Millisecond)
	if got := b.stytch.TotalCalls(); got != calls {
		t.Fatalf("calls while paused = %d more, want 0", got-calls)
	}
	if r, _ := b.store.Run(b.ctx, "run-unpause"); r.Done != 0 {
		t.Fatalf("rows ended while paused: %v, want none (a pause burns no row)", r.Counts)
	}
}

// TestSIGTERMSendsNothingAfterIt stops a real worker process with SIGTERM while its tasks wait
// for the budget and, held by the process's beginHold, in Begin: it exits cleanly, and it sends
// no call whose check before the call (Begin, after which the handler looks at the stop once
// more) left for Redis after its server was told to stop, as the process itself judges its calls
// (by its own clock, not by a time allowed for requests on the wire).
func TestSIGTERMSendsNothingAfterIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 100
	rows := b.deletedMembers(n)
	b.queue("run-term", rows)
	dir := t.TempDir()
	verdictPath, held := filepath.Join(dir, "verdict.json"), filepath.Join(dir, "held")
	child := b.startChildConc(5, 50, "CHILD_VERDICT="+verdictPath, "CHILD_HOLD="+held)
	b.wait("a few calls, then a Begin held", 30*time.Second, func() bool { _, err := os.Stat(held); return err == nil })
	termAt := time.Now()
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("worker after SIGTERM: %v, want a clean exit", err)
	}
	exited := time.Since(termAt)
	data, err := os.ReadFile(verdictPath)
	if err != nil {
		t.Fatalf("the worker process left no verdict on its calls: %v", err)
	}
	var v stopVerdict
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if got := b.stytch.TotalCalls(); v.Calls < got {
		t.Fatalf("the verdict judges %d calls, the fake saw %d: every call must pass the judge", v.Calls, got)
	}
	v.check(t, "the process was told to stop")
	t.Logf("SIGTERM to exit: %s; requests after SIGTERM: %d (those on the wire or checked before the stop)",
		exited.Round(time.Millisecond), b.stytch.RequestsSince(termAt))
}

// TestRedisErrorIsNotAnAttempt: a row whose worker cannot reach Redis goes back to the queue
// without using one of its --max-attempts, and without a call.
func TestRedisErrorIsNotAnAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(1)
	// A store on a Redis that is not there (a closed port).
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	gone := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = gone.Close() })
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.Redis = gone
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 10}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	task, err := jobs.NewReactivateTask("run-redis-gone", rows[0], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Mux().ProcessTask(b.ctx, task)
	if err == nil || isFailure(err) {
		t.Fatalf("ProcessTask with Redis gone = %v (failure %v), want an error that is not a failed attempt", err, err != nil && isFailure(err))
	}
	if n := b.stytch.TotalCalls(); n != 0 {
		t.Fatalf("calls with Redis gone = %d, want 0", n)
	}
}
