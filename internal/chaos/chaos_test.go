package chaos

// This file holds the chaos scenarios. Each runs in its own world (redis-server with the
// append-only file, fakes, worker processes), injects its fault mid-run, waits for the run to
// finish and audits it; TestChaos prints the table of all of them.

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

// chaosEnv turns the scenarios on: they take minutes (asynq recovers a killed worker's tasks
// after about a minute), so `make chaos` sets it and plain `go test` skips them.
const chaosEnv = "REACTIVATOR_CHAOS"

// rows is the size of each scenario's run.
const rows = 300

func TestChaos(t *testing.T) {
	if os.Getenv(chaosEnv) == "" {
		t.Skipf("set %s=1 (or run `make chaos`): the scenarios take a few minutes", chaosEnv)
	}
	reactivatorBinary(t)
	t.Cleanup(func() {
		if binary.dir != "" {
			_ = os.RemoveAll(binary.dir)
		}
	})
	var mu sync.Mutex
	var results []Result
	add := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		results = append(results, r)
	}
	scenarios := []struct {
		name string
		run  func(t *testing.T) []Result
	}{
		{"1 sigkill", scenarioSIGKILL},
		{"2 redis restart", scenarioRedisRestart},
		{"3 provider faults", scenarioFaults},
		{"4 credentials revoked", scenarioRevoked},
		{"5 cancel", scenarioCancel},
		{"6 duplicate deliveries", scenarioDuplicates},
		{"7 ctrl-c", scenarioCtrlC},
		{"8 unpaused behind our back", scenarioUnpaused},
	}
	t.Run("scenarios", func(t *testing.T) {
		for _, s := range scenarios {
			t.Run(s.name, func(t *testing.T) {
				t.Parallel()
				for _, r := range s.run(t) {
					add(r)
				}
			})
		}
	})
	slices.SortFunc(results, func(a, b Result) int { return strings.Compare(a.Scenario, b.Scenario) })
	var sb strings.Builder
	if err := WriteTable(&sb, results); err != nil {
		t.Fatal(err)
	}
	// The table goes to stdout as it is, for `make chaos` and the README.
	os.Stdout.WriteString("\n" + sb.String() + "\n")
}

// result audits a finished run and returns its table row.
func (w *world) result(scenario, runID string, start time.Time, refusedBy func(calls int) int) Result {
	w.t.Helper()
	r, err := w.store.Run(context.Background(), runID)
	if err != nil {
		w.t.Fatal(err)
	}
	elapsed := r.FinishedAt.Sub(start)
	a := w.audit(runID, rows)
	w.checkNoLeak()
	return Result{Scenario: scenario, Audit: a, Refused: refusedBy(a.Calls), Elapsed: elapsed, AfterStop: -1}
}

// onTheWire is how long after a stop a request that had passed its last check may still arrive:
// requests later than that were sent after the stop.
const onTheWire = 100 * time.Millisecond

func (w *world) refusedStytch(calls int) int  { return w.stytch.TotalCalls() - calls }
func (w *world) refusedZitadel(calls int) int { return w.zitadel.TotalCalls() - calls }

// applyThenWait makes every call apply its change at once and answer d later (a stall shorter
// than the client's timeout), so a fault that strikes a call in flight strikes one that already
// changed the account: the retry must confirm it, not call it a failure.
func applyThenWait(d time.Duration) fakeidp.Faults {
	return fakeidp.Faults{RateStall: 1, Stall: d}
}

// allReactivated fails the test unless every row of the audit was reactivated.
func allReactivated(t *testing.T, a Audit) {
	t.Helper()
	if a.Outcomes[jobs.Reactivated] != a.Rows {
		t.Errorf("outcomes = %v, want all %d rows reactivated", a.Outcomes, a.Rows)
	}
}

// scenarioSIGKILL kills the only worker with SIGKILL a third into the run and starts another:
// asynq hands the dead worker's tasks to it once their lease runs out; a row whose call was in
// flight is called again and reactivated on the retry's "not deactivated" (confirmed_on_retry).
func scenarioSIGKILL(t *testing.T) []Result {
	w := newWorld(t)
	const run = "chaos-sigkill"
	w.stytch.SetFaults(applyThenWait(100 * time.Millisecond))
	start := time.Now()
	w.ingest(jobs.Stytch, run, rows)
	first := w.startWorker("worker-a", "--rate", "stytch=40")
	w.waitFor("a third of the rows", time.Minute, func() bool { return w.done(run) >= rows/3 })
	first.signal(t, syscall.SIGKILL)
	t.Logf("SIGKILL at %d/%d rows done", w.done(run), rows)
	w.startWorker("worker-b", "--rate", "stytch=40")
	w.waitFinished(run, 4*time.Minute)
	res := w.result("1. worker SIGKILLed mid-run, another started", run, start, w.refusedStytch)
	allReactivated(t, res.Audit)
	if res.Audit.ExtraCalls > 20 {
		t.Errorf("extra calls = %d, want at most the 20 in flight at the kill", res.Audit.ExtraCalls)
	}
	return []Result{res}
}

// scenarioRedisRestart kills redis-server a third into the run and starts it again on the same
// port two seconds later, from its append-only file; the two workers reconnect by themselves.
func scenarioRedisRestart(t *testing.T) []Result {
	w := newWorld(t)
	const run = "chaos-redis"
	w.stytch.SetFaults(applyThenWait(50 * time.Millisecond))
	start := time.Now()
	w.ingest(jobs.Stytch, run, rows)
	w.startWorker("worker-a", "--rate", "stytch=40")
	w.startWorker("worker-b", "--rate", "stytch=40")
	w.waitFor("a third of the rows", time.Minute, func() bool { return w.done(run) >= rows/3 })
	w.redis.Stop()
	time.Sleep(2 * time.Second)
	if err := w.redis.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("redis restarted at %d/%d rows done", w.done(run), rows)
	w.waitFinished(run, 4*time.Minute)
	res := w.result("2. redis-server restarted mid-run (AOF)", run, start, w.refusedStytch)
	allReactivated(t, res.Audit)
	return []Result{res}
}

// scenarioFaults runs a Stytch and a ZITADEL run through a provider that answers 20% of calls
// 5xx, drops 10% of connections after applying the change, stalls 5% past the client's timeout,
// and goes through 429 storms with and without Retry-After.
func scenarioFaults(t *testing.T) []Result {
	w := newWorld(t)
	faults := fakeidp.Faults{Rate5xx: 0.2, RateDrop: 0.1, RateStall: 0.05, Stall: 3 * time.Second, Latency: 20 * time.Millisecond, Seed: 7}
	w.stytch.SetFaults(faults)
	faults.Seed = 8
	w.zitadel.SetFaults(faults)
	ctx, stopStorms := context.WithCancel(context.Background())
	defer stopStorms()
	go storms(ctx, w.stytch, w.zitadel)

	start := time.Now()
	w.ingest(jobs.Stytch, "chaos-faults-stytch", rows)
	w.ingest(jobs.Zitadel, "chaos-faults-zitadel", rows)
	w.startWorker("worker-a", "--rate", "stytch=50,zitadel=50")
	w.startWorker("worker-b", "--rate", "stytch=50,zitadel=50")
	w.waitFinished("chaos-faults-stytch", 6*time.Minute)
	w.waitFinished("chaos-faults-zitadel", 6*time.Minute)
	stopStorms()
	out := []Result{
		w.result("3a. Stytch: 20% 5xx, 10% drops, 5% stalls, 429 storms", "chaos-faults-stytch", start, w.refusedStytch),
		w.result("3b. ZITADEL: 20% 5xx, 10% drops, 5% stalls, 429 storms", "chaos-faults-zitadel", start, w.refusedZitadel),
	}
	for _, r := range out {
		if r.Audit.Outcomes[jobs.Reactivated]+r.Audit.Outcomes[jobs.Failed] != rows {
			t.Errorf("%s: outcomes = %v, want every row reactivated (or failed after its attempts)", r.Scenario, r.Audit.Outcomes)
		}
		if r.Audit.Ambiguous == 0 {
			t.Errorf("%s: no row confirmed on retry, want the drops and stalls confirmed", r.Scenario)
		}
	}
	return out
}

// storms alternates the fakes between no limit and a 429 storm (5 calls/s), every other storm
// with Retry-After, until ctx ends.
func storms(ctx context.Context, fakes ...interface{ SetRateLimit(fakeidp.RateLimit) }) {
	phases := []fakeidp.RateLimit{{}, {PerSecond: 5, Burst: 5, RetryAfter: true}, {}, {PerSecond: 5, Burst: 5}}
	for i := 0; ; i++ {
		for _, f := range fakes {
			f.SetRateLimit(phases[i%len(phases)])
		}
		select {
		case <-ctx.Done():
			for _, f := range fakes {
				f.SetRateLimit(fakeidp.RateLimit{})
			}
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// scenarioRevoked revokes the ZITADEL token a third into the run: the queue pauses for every
// worker and no row is burned. The operator rotates the token (new workers) and runs
// `reactivator resume zitadel`; the run finishes with every row reactivated.
func scenarioRevoked(t *testing.T) []Result {
	w := newWorld(t)
	const run = "chaos-revoked"
	w.zitadel.SetFaults(applyThenWait(50 * time.Millisecond))
	start := time.Now()
	w.ingest(jobs.Zitadel, run, rows)
	a := w.startWorker("worker-a", "--rate", "zitadel=40")
	b := w.startWorker("worker-b", "--rate", "zitadel=40")
	w.waitFor("a third of the rows", time.Minute, func() bool { return w.done(run) >= rows/3 })
	w.zitadel.RevokeTokens()
	w.waitFor("the zitadel queue to pause", 30*time.Second, func() bool {
		p, err := w.store.Paused(context.Background())
		return err == nil && p[jobs.Zitadel].Reason != ""
	})
	pausedAt, doneAtPause := time.Now(), w.done(run)
	time.Sleep(3 * time.Second)
	afterPause := w.zitadel.RequestsSince(pausedAt.Add(onTheWire))
	if afterPause != 0 {
		t.Errorf("%d requests in the 3s after the pause, want 0", afterPause)
	}
	r, err := w.store.Run(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failures() > 0 {
		t.Errorf("while paused: counts = %v, want no row burned", r.Counts)
	}
	if !strings.Contains(r.Note, "resume zitadel") {
		t.Errorf("while paused: run note = %q, want it to say `resume zitadel`", r.Note)
	}
	t.Logf("paused at %d/%d rows done; %d rows done in the 3s after", doneAtPause, rows, r.Done-doneAtPause)

	a.signal(t, syscall.SIGTERM)
	b.signal(t, syscall.SIGTERM)
	w.zitadel.AddToken(token2, zOrg)
	w.setenv("ZITADEL_TOKEN", token2)
	w.startWorker("worker-c", "--rate", "zitadel=40")
	w.startWorker("worker-d", "--rate", "zitadel=40")
	w.cli("resume", "zitadel")
	w.waitFinished(run, 3*time.Minute)
	res := w.result("4. credentials revoked mid-run, rotated, resume", run, start, w.refusedZitadel)
	res.AfterStop = afterPause
	allReactivated(t, res.Audit)
	return []Result{res}
}

// scenarioCancel cancels a run a third into it with `reactivator cancel`: rows in flight end
// with their call's outcome, the others as cancelled, never called.
func scenarioCancel(t *testing.T) []Result {
	w := newWorld(t)
	const run = "chaos-cancel"
	w.stytch.SetFaults(applyThenWait(100 * time.Millisecond))
	start := time.Now()
	w.ingest(jobs.Stytch, run, rows)
	w.startWorker("worker-a", "--rate", "stytch=30")
	w.startWorker("worker-b", "--rate", "stytch=30")
	w.waitFor("a third of the rows", time.Minute, func() bool { return w.done(run) >= rows/3 })
	cancelledAt := time.Now()
	w.cli("cancel", run)
	w.waitFinished(run, 2*time.Minute)
	res := w.result("5. run cancelled mid-way", run, start, w.refusedStytch)
	res.AfterStop = w.stytch.RequestsSince(cancelledAt.Add(onTheWire))
	if res.AfterStop != 0 {
		t.Errorf("%d requests after the cancel, want 0", res.AfterStop)
	}
	if res.Audit.Outcomes[jobs.Cancelled] == 0 || res.Audit.Outcomes[jobs.Reactivated]+res.Audit.Outcomes[jobs.Cancelled] != rows {
		t.Errorf("outcomes = %v, want reactivated and cancelled rows only", res.Audit.Outcomes)
	}
	return []Result{res}
}

// scenarioDuplicates delivers every task twice, as asynq may (it promises at-least-once: a task
// whose lease expired under a stalled but living worker runs again elsewhere): a copy of each
// row's task is queued beside the original before two workers start. Each row must still get
// one outcome and, once recorded, no further call.
func scenarioDuplicates(t *testing.T) []Result {
	w := newWorld(t)
	const run = "chaos-dup"
	w.stytch.SetFaults(applyThenWait(20 * time.Millisecond))
	start := time.Now()
	w.ingest(jobs.Stytch, run, rows)
	client := asynq.NewClientFromRedisClient(w.rdb)
	for i := 1; i <= rows; i++ {
		r := jobs.Row{Line: i + 1, Provider: jobs.Stytch, OrgID: orgID, MemberID: stytchMember(i)}
		task, err := jobs.NewReactivateTask(run, r, time.Now(), asynq.TaskID(jobs.TaskID(run, r)+":again"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}
	w.startWorker("worker-a", "--rate", "stytch=100")
	w.startWorker("worker-b", "--rate", "stytch=100")
	w.waitFinished(run, 2*time.Minute)
	// The copies of rows already recorded still run after the run finished: wait for the queue
	// to drain, so the audit counts every call they could make.
	insp := asynq.NewInspectorFromRedisClient(w.rdb)
	w.waitFor("every copy to run", time.Minute, func() bool {
		q, err := insp.GetQueueInfo(jobs.Stytch.Queue())
		return err == nil && q.Pending+q.Active+q.Scheduled+q.Retry == 0
	})
	res := w.result("6. every task delivered twice", run, start, w.refusedStytch)
	allReactivated(t, res.Audit)
	return []Result{res}
}

// scenarioCtrlC presses Ctrl-C (SIGINT) on both workers a third into a run paced at 5 calls/s,
// so most tasks wait for the budget: no request may leave after the signal. Two new workers
// finish the run; no account is called twice.
func scenarioCtrlC(t *testing.T) []Result {
	w := newWorld(t)
	const run = "chaos-ctrlc"
	w.stytch.SetFaults(applyThenWait(50 * time.Millisecond))
	start := time.Now()
	w.ingest(jobs.Stytch, run, rows)
	a := w.startWorker("worker-a", "--rate", "stytch=5")
	b := w.startWorker("worker-b", "--rate", "stytch=5")
	w.waitFor("a few rows", time.Minute, func() bool { return w.done(run) >= 10 })
	stoppedAt := time.Now()
	var wg sync.WaitGroup
	for _, p := range []*proc{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); p.signal(t, syscall.SIGINT) }()
	}
	wg.Wait()
	afterStop := w.stytch.RequestsSince(stoppedAt.Add(onTheWire))
	if afterStop != 0 {
		t.Errorf("%d requests after Ctrl-C, want 0", afterStop)
	}
	t.Logf("Ctrl-C at %d/%d rows done; both workers exited %s after it", w.done(run), rows, time.Since(stoppedAt).Round(time.Millisecond))
	w.startWorker("worker-c", "--rate", "stytch=100")
	w.startWorker("worker-d", "--rate", "stytch=100")
	w.waitFinished(run, 3*time.Minute)
	res := w.result("7. Ctrl-C on both workers at 5/s, two new workers", run, start, w.refusedStytch)
	res.AfterStop = afterStop
	allReactivated(t, res.Audit)
	if res.Audit.ExtraCalls != 0 {
		t.Errorf("extra calls = %d, want 0: calls on the wire at Ctrl-C finish and are recorded", res.Audit.ExtraCalls)
	}
	return []Result{res}
}

// scenarioUnpaused revokes the ZITADEL token; once the provider is paused the token is rotated
// and two workers with --max-row-age 2s (every waiting row is older than that by then) take over,
// but nobody runs `reactivator resume`: asynq's queue pause is lifted behind our back instead (as
// the asynq web UI's "resume" button does), with every waiting retry moved to pending. The tasks
// that come out must go back uncalled and unaged, and the workers pause the queue again. Then
// `reactivator resume zitadel` finishes the run.
func scenarioUnpaused(t *testing.T) []Result {
	w := newWorld(t)
	const run = "chaos-unpaused"
	w.zitadel.SetFaults(applyThenWait(20 * time.Millisecond))
	start := time.Now()
	w.ingest(jobs.Zitadel, run, rows)
	a := w.startWorker("worker-a", "--rate", "zitadel=40")
	b := w.startWorker("worker-b", "--rate", "zitadel=40")
	w.waitFor("a third of the rows", time.Minute, func() bool { return w.done(run) >= rows/3 })
	w.zitadel.RevokeTokens()
	w.waitFor("the zitadel queue to pause", 30*time.Second, func() bool {
		p, err := w.store.Paused(context.Background())
		return err == nil && p[jobs.Zitadel].Reason != ""
	})
	time.Sleep(onTheWire)
	callsAtPause := w.zitadel.TotalCalls() // reactivate requests; the new workers' start-up checks are not
	a.signal(t, syscall.SIGTERM)
	b.signal(t, syscall.SIGTERM)
	time.Sleep(2 * time.Second) // every row still waiting is now older than --max-row-age
	w.zitadel.AddToken(token2, zOrg)
	w.setenv("ZITADEL_TOKEN", token2)
	c := w.startWorker("worker-c", "--rate", "zitadel=40", "--max-row-age", "2s")
	d := w.startWorker("worker-d", "--rate", "zitadel=40", "--max-row-age", "2s")
	insp := asynq.NewInspectorFromRedisClient(w.rdb)
	w.waitFor("asynq's queue pause", 10*time.Second, func() bool {
		q, err := insp.GetQueueInfo(jobs.Zitadel.Queue())
		return err == nil && q.Paused
	})
	for i := range 3 { // three times over five seconds, past --max-row-age
		if err := insp.UnpauseQueue(jobs.Zitadel.Queue()); err != nil {
			t.Fatalf("lift %d: %v", i+1, err)
		}
		if _, err := insp.RunAllRetryTasks(jobs.Zitadel.Queue()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		w.waitFor("the workers to pause the queue again", 5*time.Second, func() bool {
			q, err := insp.GetQueueInfo(jobs.Zitadel.Queue())
			return err == nil && q.Paused
		})
		time.Sleep(1500 * time.Millisecond)
	}
	afterStop := w.zitadel.TotalCalls() - callsAtPause
	if afterStop != 0 {
		t.Errorf("%d reactivate requests while paused with asynq's pause lifted, want 0", afterStop)
	}
	if q, err := insp.GetQueueInfo(jobs.Zitadel.Queue()); err != nil || !q.Paused {
		t.Errorf("asynq queue after the workers saw the pause lifted: paused %v (%v), want paused again", q != nil && q.Paused, err)
	}
	if r, err := w.store.Run(context.Background(), run); err != nil || r.Failures() > 0 {
		t.Errorf("while paused: counts = %v (%v), want no row burned", r.Counts, err)
	}
	c.signal(t, syscall.SIGTERM)
	d.signal(t, syscall.SIGTERM)
	w.startWorker("worker-e", "--rate", "zitadel=40")
	w.startWorker("worker-f", "--rate", "zitadel=40")
	w.cli("resume", "zitadel")
	w.waitFinished(run, 3*time.Minute)
	res := w.result("8. asynq's pause lifted behind our back while paused, then resume", run, start, w.refusedZitadel)
	res.AfterStop = afterStop
	allReactivated(t, res.Audit)
	return []Result{res}
}
