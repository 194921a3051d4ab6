package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/fakeidp"
	"reactivator/internal/redistest"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	projectID = "project-test-11111111-2222-4333-8444-555555555555"
	secret    = "secret-test-abcdefghijklmnopqrstuvwxyz0123456789="
	orgID     = "organization-test-00000000-0000-4000-8000-000000000001"
)

// bundle is one test's world: a private Redis database, the run store, a fake Stytch and a client.
type bundle struct {
	t      testing.TB
	ctx    context.Context
	redis  asynq.RedisClientOpt
	rdb    redis.UniversalClient // the client the worker under test is given
	store  *jobs.Store
	stytch *fakeidp.Stytch
	url    string
	client *stytch.Client
}

func setup(t testing.TB) *bundle {
	t.Helper()
	srv := redistest.Shared(t)
	db := srv.NextDB()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: db})
	t.Cleanup(func() { _ = rdb.Close() })
	fake := fakeidp.NewStytch(projectID, secret)
	fake.AddOrg(orgID, "acme")
	url, stop := fakeidp.Serve(fake)
	t.Cleanup(stop)
	c, err := stytch.New(stytch.Config{ProjectID: projectID, Secret: secret, BaseURL: url, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{t: t, ctx: context.Background(), redis: asynq.RedisClientOpt{Addr: srv.Addr, DB: db}, rdb: rdb, store: jobs.NewStore(rdb), stytch: fake, url: url, client: c}
}

func member(i int) string { return fmt.Sprintf("member-test-00000000-0000-4000-8000-%012d", i) }

// deletedMembers adds members 1..n to the fake Stytch, deleted with a verified email (each can be
// reactivated), and returns their rows, lines 2..n+1.
func (b *bundle) deletedMembers(n int) []jobs.Row {
	rows := make([]jobs.Row, n)
	for i := 1; i <= n; i++ {
		b.stytch.AddMember(orgID, member(i), "deleted", true)
		rows[i-1] = jobs.Row{Line: i + 1, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(i)}
	}
	return rows
}

// queue records a run of the given rows and queues their tasks itself, as the window would, for
// tests of the handler (ingestDeleted goes through ingest and the window).
func (b *bundle) queue(runID string, rows []jobs.Row) { b.queueRun(jobs.Run{ID: runID}, rows) }

// queueRun is queue for a run with settings of its own (a rate limit, say).
func (b *bundle) queueRun(run jobs.Run, rows []jobs.Row) {
	b.t.Helper()
	runID := run.ID
	run.Provider, run.File = rows[0].Provider, runID+".csv"
	if _, _, err := b.store.CreateRun(b.ctx, run); err != nil {
		b.t.Fatal(err)
	}
	in := make([]jobs.IngestRow, len(rows))
	for i, r := range rows {
		in[i] = jobs.IngestRow{Row: r, Input: []string{r.OrgID, r.MemberID, r.UserID}}
	}
	acts, err := b.store.AddRows(b.ctx, runID, in)
	if err != nil {
		b.t.Fatal(err)
	}
	cl := asynq.NewClient(b.redis)
	defer cl.Close()
	for i, a := range acts {
		if a != jobs.AddQueue {
			continue
		}
		task, err := jobs.NewReactivateTask(runID, rows[i], time.Now())
		if err != nil {
			b.t.Fatal(err)
		}
		if _, err := cl.Enqueue(task); err != nil {
			b.t.Fatal(err)
		}
	}
	if _, err := b.store.SetTotal(b.ctx, runID, len(rows)); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bundle) config(callers map[jobs.Provider]Caller) Config {
	return Config{
		Redis: b.rdb, Callers: callers, Concurrency: 20, MaxAttempts: 4,
		Backoff: Backoff{Base: 50 * time.Millisecond, Cap: 200 * time.Millisecond}, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// start runs a worker until the test ends.
func (b *bundle) start(cfg Config) (stop func()) {
	b.t.Helper()
	s, err := New(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				b.t.Errorf("worker Run = %v", err)
			}
		})
	}
	b.t.Cleanup(stop)
	return stop
}

// wait polls until cond holds, failing the test after limit.
func (b *bundle) wait(what string, limit time.Duration, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bundle) waitFinished(runID string, limit time.Duration) jobs.Run {
	b.t.Helper()
	var r jobs.Run
	b.wait("run "+runID+" to finish", limit, func() bool {
		var err error
		r, err = b.store.Run(b.ctx, runID)
		return err == nil && r.State == jobs.RunFinished
	})
	return r
}

func (b *bundle) outcome(runID string, line int) jobs.OutcomeRecord {
	b.t.Helper()
	o, ok, err := b.store.Outcome(b.ctx, runID, line)
	if err != nil || !ok {
		b.t.Fatalf("Outcome(%s, %d) = %v, %v; want a recorded outcome", runID, line, ok, err)
	}
	return o
}

func TestStytchOutcomesEndToEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stytch.AddMember(orgID, member(1), "deleted", true)
	b.stytch.AddMember(orgID, member(2), "active", true)
	b.stytch.AddMember(orgID, member(3), "deleted", false)
	b.stytch.AddMember(orgID, member(5), "deleted", true)
	b.stytch.Script(orgID, member(5), fakeidp.Case{Status: 400, Body: fakeidp.StytchError(400, "reactivation_email_belongs_to_another_member", "taken")})
	b.stytch.AddMember(orgID, member(6), "deleted", true)
	b.stytch.Script(orgID, member(6), fakeidp.Case{Status: 503, Body: fakeidp.StytchError(503, "internal_server_error", "down")},
		fakeidp.Case{Status: 503, Body: fakeidp.StytchError(503, "internal_server_error", "down")})
	b.stytch.AddMember(orgID, member(7), "deleted", true)
	for range 5 {
		b.stytch.Script(orgID, member(7), fakeidp.Case{Status: 500, Body: fakeidp.StytchError(500, "internal_server_error", "down")})
	}
	rows := []jobs.Row{
		{Line: 2, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(1)},
		{Line: 3, Provider: jobs.Stytch, OrgID: "acme", MemberID: member(2)},
		{Line: 4, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(3)},
		{Line: 5, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(4)},
		{Line: 6, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(5)},
		{Line: 7, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(6)},
		{Line: 8, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(7)},
	}
	b.queue("run-s", rows)
	b.start(b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client}))
	r := b.waitFinished("run-s", 30*time.Second)

	want := map[int]jobs.Outcome{2: jobs.Reactivated, 3: jobs.NotDeactivated, 4: jobs.UnverifiedEmail, 5: jobs.NotFound,
		6: jobs.Rejected, 7: jobs.Reactivated, 8: jobs.Failed}
	for line, w := range want {
		if got := b.outcome("run-s", line); got.Outcome != w {
			t.Errorf("line %d outcome = %s (%s), want %s", line, got.Outcome, got.Message, w)
		}
	}
	if got := b.outcome("run-s", 7); got.Attempts != 3 || got.Reason == jobs.ReasonConfirmedOnRetry {
		t.Errorf("line 7 (two 503s, then success) = attempts %d reason %q, want 3 attempts, plain success", got.Attempts, got.Reason)
	}
	if got := b.outcome("run-s", 8); !strings.Contains(got.Message, "may have reached the provider") {
		t.Errorf("line 8 (500s, each possibly applied) message = %q, want it to say an attempt may have reached the provider", got.Message)
	}
	if got := b.outcome("run-s", 8); got.Attempts != 4 || got.HTTPStatus != 500 {
		t.Errorf("line 8 (500 forever) = attempts %d status %d, want 4 (MaxAttempts), 500", got.Attempts, got.HTTPStatus)
	}
	// The active member (line 3) is read after its "not deactivated": already active is not a failure.
	if got := b.outcome("run-s", 3); got.Outcome != jobs.NotDeactivated || got.Reason != jobs.ReasonAlreadyActive {
		t.Errorf("line 3 (an active member) = %s / %s, want not_deactivated / already_active", got.Outcome, got.Reason)
	}
	if r.Done != len(rows) || r.Failures() != 4 || r.AlreadyActive != 1 {
		t.Errorf("run = done %d failures %d already active %d, want %d, 4, 1", r.Done, r.Failures(), r.AlreadyActive, len(rows))
	}
	if got := b.stytch.Status(orgID, member(1)); got != "active" {
		t.Errorf("member 1 status = %s, want active", got)
	}
	// A permanent failure is archived in asynq with its outcome as last error.
	insp := asynq.NewInspector(b.redis)
	defer insp.Close()
	archived, err := insp.ListArchivedTasks(jobs.Stytch.Queue())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ti := range archived {
		if ti.ID == jobs.TaskID("run-s", rows[2]) {
			found = true
			if want := "unverified_email: email_unverified_for_reactivation"; len(ti.LastErr) < len(want) || ti.LastErr[:len(want)] != want {
				t.Errorf("archived task last error = %q, want it to start with %q", ti.LastErr, want)
			}
		}
	}
	if !found {
		t.Errorf("the unverified_email row's task is not archived in asynq (archived: %d tasks)", len(archived))
	}
}

func TestRedeliveredTaskDoesNotCallAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stytch.AddMember(orgID, member(1), "deleted", true)
	row := jobs.Row{Line: 2, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(1)}
	b.queue("run-r", []jobs.Row{row})
	b.start(b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client}))
	b.waitFinished("run-r", 20*time.Second)

	// The same task again (as asynq would redeliver it after a crash): no second call.
	cl := asynq.NewClient(b.redis)
	defer cl.Close()
	task, _ := jobs.NewReactivateTask("run-r", row, time.Now())
	if _, err := cl.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(b.redis)
	defer insp.Close()
	b.wait("the redelivered task to be processed", 10*time.Second, func() bool {
		qi, err := insp.GetQueueInfo(jobs.Stytch.Queue())
		return err == nil && qi.Pending == 0 && qi.Active == 0 && qi.Processed >= 2
	})
	if n := b.stytch.Calls(orgID + "/" + member(1)); n != 1 {
		t.Fatalf("fake calls for member 1 = %d, want 1", n)
	}
}

func TestDroppedConnectionAfterApplyIsConfirmedOnRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := 1; i <= 20; i++ {
		b.stytch.AddMember(orgID, member(i), "deleted", true)
	}
	b.stytch.SetFaults(fakeidp.Faults{RateDrop: 0.5, Seed: 7})
	var rows []jobs.Row
	for i := 1; i <= 20; i++ {
		rows = append(rows, jobs.Row{Line: i + 1, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(i)})
	}
	b.queue("run-d", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.MaxAttempts = 30
	b.start(cfg)
	r := b.waitFinished("run-d", 60*time.Second)
	confirmed := 0
	for _, row := range rows {
		o := b.outcome("run-d", row.Line)
		if o.Outcome != jobs.Reactivated {
			t.Errorf("line %d = %s (%s), want reactivated", row.Line, o.Outcome, o.Message)
		}
		if o.Reason == jobs.ReasonConfirmedOnRetry {
			confirmed++
		}
	}
	if confirmed == 0 || r.Counts[jobs.Reactivated] != 20 {
		t.Fatalf("confirmed_on_retry rows = %d, reactivated %d; want some confirmed (half the calls dropped after applying), 20", confirmed, r.Counts[jobs.Reactivated])
	}
}

func TestWrongSecretPausesAndResumeFinishes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 200
	rows := b.deletedMembers(n)
	b.stytch.SetSecret("rotated-secret")
	b.queue("run-p", rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	stop := b.start(cfg)
	b.wait("the stytch queue to pause", 20*time.Second, func() bool {
		p, _ := b.store.Paused(b.ctx)
		_, ok := p[jobs.Stytch]
		return ok
	})
	time.Sleep(time.Second) // give a wrongly unpaused worker the chance to burn rows
	calls := b.stytch.TotalCalls()
	if calls > cfg.Concurrency {
		t.Fatalf("calls made with the wrong secret = %d, want at most the %d in flight", calls, cfg.Concurrency)
	}
	r, _ := b.store.Run(b.ctx, "run-p")
	if r.Done != 0 || r.Note == "" {
		t.Fatalf("run after the fatal answer = done %d note %q, want 0 rows burned and a note saying why", r.Done, r.Note)
	}
	stop()

	// Fix the secret (the worker restarts with the right one), then resume.
	b.stytch.SetSecret(secret)
	if err := Resume(b.ctx, b.rdb, jobs.Stytch); err != nil {
		t.Fatal(err)
	}
	b.start(cfg)
	r = b.waitFinished("run-p", 60*time.Second)
	if r.Counts[jobs.Reactivated] != n {
		t.Fatalf("after resume: counts %v, want all %d reactivated", r.Counts, n)
	}
	for i := 1; i <= n; i++ {
		if c := b.stytch.Calls(orgID + "/" + member(i)); c > 2 {
			t.Fatalf("member %d called %d times, want at most 2 (one refused, one good)", i, c)
		}
	}
}

func TestCancelledRunEndsUncalledRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows := b.deletedMembers(50)
	b.queue("run-c", rows)
	if _, _, err := b.store.Cancel(b.ctx, "run-c"); err != nil {
		t.Fatal(err)
	}
	b.start(b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client}))
	r := b.waitFinished("run-c", 20*time.Second)
	if r.Counts[jobs.Cancelled] != 50 || b.stytch.TotalCalls() != 0 {
		t.Fatalf("cancelled run = counts %v, calls %d; want 50 cancelled, 0 calls", r.Counts, b.stytch.TotalCalls())
	}
}

func TestMaxRowAgeEndsStaleRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stytch.AddMember(orgID, member(1), "deleted", true)
	row := jobs.Row{Line: 2, Provider: jobs.Stytch, OrgID: orgID, MemberID: member(1)}
	if _, _, err := b.store.CreateRun(b.ctx, jobs.Run{ID: "run-a", Provider: jobs.Stytch}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.AddRows(b.ctx, "run-a", []jobs.IngestRow{{Row: row}}); err != nil {
		t.Fatal(err)
	}
	_, _ = b.store.SetTotal(b.ctx, "run-a", 1)
	cl := asynq.NewClient(b.redis)
	defer cl.Close()
	task, _ := jobs.NewReactivateTask("run-a", row, time.Now().Add(-48*time.Hour))
	if _, err := cl.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	b.start(b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client}))
	b.waitFinished("run-a", 20*time.Second)
	if o := b.outcome("run-a", 2); o.Outcome != jobs.Failed || o.Reason != "max_row_age" || b.stytch.TotalCalls() != 0 {
		t.Fatalf("stale row = %+v with %d calls, want failed max_row_age, no call", o, b.stytch.TotalCalls())
	}
}

func TestRunWithItsOwnRateStaysUnderIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n, runRate = 30, 5
	rows := b.deletedMembers(n)
	b.queueRun(jobs.Run{ID: "run-rate", RateLimit: runRate}, rows)
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 100}}
	b.start(cfg)
	r := b.waitFinished("run-rate", time.Minute)
	if r.Counts[jobs.Reactivated] != n {
		t.Fatalf("counts = %v, want %d reactivated", r.Counts, n)
	}
	if got := b.stytch.MaxPerSecond(); got > runRate+1 {
		t.Fatalf("busiest second = %d calls, want at most the run's own rate %d (+1 burst) under the provider's 100/s (histogram %v)", got, runRate, b.stytch.Histogram())
	}
}

// TestWorkerRefusesAnOldLayoutRun: a run an earlier version left with its outcomes in the one
// hash of the older layout would have its finished rows called again; the worker does not start
// and calls nothing.
func TestWorkerRefusesAnOldLayoutRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.queue("run-old", b.deletedMembers(2))
	if err := b.rdb.HSet(b.ctx, "reactivator:{run-old}:out", "2", `{"outcome":"reactivated"}`).Err(); err != nil {
		t.Fatal(err)
	}
	s, err := New(b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	var old *jobs.OldLayoutError
	if err := s.Run(ctx); !errors.As(err, &old) || len(old.Runs) != 1 || old.Runs[0] != "run-old" {
		t.Fatalf("Run = %v, want an *jobs.OldLayoutError naming run-old", err)
	}
	if n := b.stytch.TotalCalls(); n != 0 {
		t.Fatalf("the fake got %d calls, want 0", n)
	}
}
