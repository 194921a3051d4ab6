package worker

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/ingest"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

// patience is how long the window tests that count one call a row wait for one answer, from the
// fake or from Redis: as long as they wait for the run. With the bundle's 2 s, a loaded machine
// turned a slow answer into a timeout and an honest retry, a second call that these tests would
// take for a row handled twice.
const patience = 2 * time.Minute

// patientClient returns a Stytch client of the bundle's fake that waits patience for an answer.
func (b *bundle) patientClient() *stytch.Client {
	b.t.Helper()
	c, err := stytch.New(stytch.Config{ProjectID: projectID, Secret: secret, BaseURL: b.url, Timeout: patience})
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// patientRedis returns a client of the bundle's database that waits patience for a command (the
// Redis client's default gives up after 3 s, and a command that failed so ends an ingest).
func (b *bundle) patientRedis() *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: b.redis.Addr, DB: b.redis.DB,
		ReadTimeout: patience, WriteTimeout: patience, PoolTimeout: patience})
	b.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// ingestRun records rows as a run waiting for the window, as ingest does: no asynq task.
func (b *bundle) ingestRun(runID string, rows []jobs.Row) {
	b.t.Helper()
	run, _, err := b.store.CreateRun(b.ctx, jobs.Run{ID: runID, Provider: rows[0].Provider, File: runID + ".csv"})
	if err != nil {
		b.t.Fatal(err)
	}
	if err := b.store.OpenWindow(b.ctx, run.Provider, runID, run.CreatedAt); err != nil {
		b.t.Fatal(err)
	}
	in := make([]jobs.IngestRow, len(rows))
	for i, r := range rows {
		in[i] = jobs.IngestRow{Row: r, Input: []string{r.OrgID, r.MemberID, r.UserID}}
	}
	if _, err := b.store.AddRows(b.ctx, runID, in); err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.store.SetTotal(b.ctx, runID, len(rows)); err != nil {
		b.t.Fatal(err)
	}
}

// windowServer returns a worker (not started) over its own connection, as another process has.
func (b *bundle) windowServer(cfg Config) *Server {
	b.t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: b.redis.Addr, DB: b.redis.DB})
	b.t.Cleanup(func() { _ = rdb.Close() })
	cfg.Redis = rdb
	s, err := New(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// serve runs s until the test ends.
func (b *bundle) serve(s *Server) {
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	b.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.t.Errorf("worker Run = %v", err)
		}
	})
}

// checkEveryRowOnce fails the test unless every row of the run ended reactivated with one call.
// Give the workers patientClient: a call retried after a timeout is a second call too.
func (b *bundle) checkEveryRowOnce(runID string, rows []jobs.Row) {
	b.t.Helper()
	run := b.waitFinished(runID, 2*time.Minute)
	if run.Done != len(rows) || run.Counts[jobs.Reactivated] != len(rows) {
		b.t.Errorf("run %s = %d done, counts %v; want all %d reactivated", runID, run.Done, run.Counts, len(rows))
	}
	for _, r := range rows {
		if n := b.stytch.Calls(r.OrgID + "/" + r.MemberID); n != 1 {
			o, _, _ := b.store.Outcome(b.ctx, runID, r.Line)
			b.t.Errorf("calls to line %d = %d, want 1 (outcome %s, reason %s: %s; attempts %d)", r.Line, n, o.Outcome, o.Reason, o.Message, o.Attempts)
		}
	}
}

// callClock is a clock driven by the fake's calls: it reads start plus one step per call the fake
// Stytch has answered, so time passes at exactly one call a step however slow the machine is.
type callClock struct {
	start time.Time
	step  time.Duration
	calls func() int
}

func (c callClock) Now() time.Time { return c.start.Add(time.Duration(c.calls()) * c.step) }

// waitDone waits for a run to finish, failing the test when no row of it got its outcome for
// stall: a stuck run fails, a slow machine does not.
func (b *bundle) waitDone(runID string, stall time.Duration) jobs.Run {
	b.t.Helper()
	var r jobs.Run
	last, since := -1, time.Now()
	for {
		var err error
		r, err = b.store.Run(b.ctx, runID)
		if err == nil && r.State == jobs.RunFinished {
			return r
		}
		if err == nil && r.Done != last {
			last, since = r.Done, time.Now()
		}
		if time.Since(since) > stall {
			b.t.Fatalf("run %s stalled at %d rows done (no outcome for %s)", runID, last, stall)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWindowRowAgeCountsFromTheWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// 60 rows at 20/s take 3s, three times --max-row-age: with the age counted from ingest,
	// two thirds of them would fail uncalled. The worker's clock moves 50 ms per call (20/s
	// exactly, however loaded the machine), so a row's age is the calls made since it entered
	// the window: at most the window's 10 rows, 500 ms.
	rows := b.deletedMembers(60)
	b.ingestRun("age", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 20}}
	cfg.MaxRowAge = time.Second
	cfg.Clock = callClock{start: time.Now(), step: 50 * time.Millisecond, calls: b.stytch.TotalCalls}
	b.start(cfg)
	run := b.waitDone("age", time.Minute)
	if run.Counts[jobs.Reactivated] != 60 {
		t.Errorf("run counts = %v, want all 60 reactivated, none failed by --max-row-age", run.Counts)
	}
	if got := windowSize(20, time.Second); got != 10 {
		t.Errorf("windowSize(20/s, 1s) = %d, want 10: half --max-row-age's worth of calls", got)
	}
}

func TestWindowSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rate   float64
		maxAge time.Duration
		want   int
	}{
		{rate: 40, maxAge: 24 * time.Hour, want: 4800},
		{rate: 1, maxAge: 24 * time.Hour, want: 300},
		{rate: 0, maxAge: 24 * time.Hour, want: 2000},
		{rate: 20, maxAge: time.Second, want: 10},
		{rate: 0.5, maxAge: time.Second, want: 1},
	} {
		if got := windowSize(tc.rate, tc.maxAge); got != tc.want {
			t.Errorf("windowSize(%g, %s) = %d, want %d", tc.rate, tc.maxAge, got, tc.want)
		}
	}
}

func TestWindowTwoWorkersNeverQueueARowTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(1500)
	b.ingestRun("two", rows)
	// The patient client: a second call to a row can only be a second handling of it.
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.patientClient()})
	cfg.Window = Window{Size: 40, Tick: 10 * time.Millisecond}
	s1, s2 := b.windowServer(cfg), b.windowServer(cfg)
	b.serve(s1)
	b.serve(s2)
	b.checkEveryRowOnce("two", rows)
	w1, w2 := s1.windows[jobs.Stytch], s2.windows[jobs.Stytch]
	if q := w1.queued.Load() + w2.queued.Load(); q != int64(len(rows)) || w1.queued.Load() == 0 || w2.queued.Load() == 0 {
		t.Errorf("tasks queued by the two workers = %d + %d, want %d in all, each some", w1.queued.Load(), w2.queued.Load(), len(rows))
	}
	if c := w1.conflicts.Load() + w2.conflicts.Load(); c != 0 {
		t.Errorf("task ids asynq already held = %d, want 0: no row handed out twice", c)
	}
}

func TestWindowWorkerKilledBetweenClaimAndEnqueueLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(100)
	b.ingestRun("killed", rows)
	// A worker claims 30 rows and dies before queueing them.
	dead, err := b.store.ClaimRows(b.ctx, jobs.Stytch, "killed", 30)
	if err != nil || len(dead.Rows) != 30 {
		t.Fatalf("ClaimRows = %+v, %v; want 30 rows", dead, err)
	}
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.patientClient()})
	cfg.Window = Window{Size: 20, Tick: 20 * time.Millisecond, ClaimLease: 300 * time.Millisecond}
	s := b.windowServer(cfg)
	b.serve(s)
	b.checkEveryRowOnce("killed", rows)
	if q := s.windows[jobs.Stytch].queued.Load(); q != 100 {
		t.Errorf("tasks queued = %d, want 100: the dead worker's 30 among them", q)
	}
	// The window drops the run on its next pass after the last claim (a pass waits for the
	// backlog to fall, and for the rows that finished together): soon after, not at once.
	b.wait("the run to leave the window", 30*time.Second, func() bool {
		runs, err := b.store.WindowRuns(b.ctx, jobs.Stytch, 10)
		return err == nil && len(runs) == 0
	})
}

// TestWindowIngestThenDrain10kRows ingests 10,000 rows as the ingest command does and drains
// them through the window: every row reactivated by one call. Its waits are conditions, not
// deadlines: the run may take minutes on a loaded machine, it fails only when no row gets its
// outcome for two minutes, and each answer, of the fake or of Redis, is waited for as long.
func TestWindowIngestThenDrain10kRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 10000
	var csv bytes.Buffer
	csv.WriteString("organization_id,member_id\n")
	for i := 1; i <= n; i++ {
		b.stytch.AddMember(orgID, member(i), "deleted", true)
		fmt.Fprintf(&csv, "%s,%s\n", orgID, member(i))
	}
	rdb := b.patientRedis()
	store := jobs.NewStore(rdb)
	in, err := ingest.New(ingest.Config{Store: store, Enqueuer: asynq.NewClientFromRedisClient(rdb), RunID: "big"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Ingest(b.ctx, "big.csv", bytes.NewReader(csv.Bytes()))
	if err != nil || res.Queued != n {
		t.Fatalf("Ingest = %+v, %v; want %d queued", res, err, n)
	}
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.patientClient()})
	cfg.Redis = b.patientRedis()
	cfg.Concurrency = 50
	b.start(cfg)
	b.store = store // the test's own reads wait as patiently
	run := b.waitDone("big", patience)
	if run.Done != n || run.Counts[jobs.Reactivated] != n {
		t.Fatalf("run = %d done, counts %v; want %d reactivated", run.Done, run.Counts, n)
	}
	rowsSeen := 0
	err = b.store.EachRow(b.ctx, "big", func(r jobs.ReportRow) error {
		rowsSeen++
		if r.Pending || r.Outcome.Outcome != jobs.Reactivated {
			t.Errorf("row %d = %+v, want reactivated", r.Line, r)
		}
		if c := b.stytch.Calls(orgID + "/" + r.Input[1]); c != 1 {
			t.Errorf("calls to line %d = %d, want 1 (outcome %s, reason %s: %s; attempts %d)", r.Line, c, r.Outcome.Outcome, r.Outcome.Reason, r.Outcome.Message, r.Outcome.Attempts)
		}
		return nil
	})
	if err != nil || rowsSeen != n {
		t.Errorf("EachRow = %d rows, %v; want %d", rowsSeen, err, n)
	}
}

func TestWindowCancelledRunFinishes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(200)
	b.ingestRun("cancel", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 50}}
	cfg.Window = Window{Size: 10}
	b.start(cfg)
	b.wait("some rows done", 30*time.Second, func() bool {
		r, err := b.store.Run(b.ctx, "cancel")
		return err == nil && r.Done >= 20
	})
	if _, _, err := b.store.Cancel(b.ctx, "cancel"); err != nil {
		t.Fatal(err)
	}
	run := b.waitFinished("cancel", time.Minute)
	if run.Counts[jobs.Reactivated]+run.Counts[jobs.Cancelled] != 200 || run.Counts[jobs.Cancelled] < 150 {
		t.Errorf("run counts = %v, want reactivated + cancelled = 200, most of them cancelled", run.Counts)
	}
	for _, r := range rows {
		o := b.outcome("cancel", r.Line)
		calls := b.stytch.Calls(r.OrgID + "/" + r.MemberID)
		if (o.Outcome == jobs.Cancelled) != (calls == 0) {
			t.Errorf("line %d: %s with %d calls, want cancelled rows uncalled and the others called", r.Line, o.Outcome, calls)
		}
	}
}
