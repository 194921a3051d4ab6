package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"reactivator/internal/clock"
	"reactivator/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func setupStore(t *testing.T) (*Store, context.Context) {
	t.Helper()
	return NewStore(redistest.Shared(t).Client(t)), context.Background()
}

func zrow(line int, user string) IngestRow {
	return IngestRow{Row: Row{Line: line, Provider: Zitadel, UserID: user}, Input: []string{"", "", user}}
}

func newRun(t *testing.T, s *Store, ctx context.Context, id string) {
	t.Helper()
	if _, created, err := s.CreateRun(ctx, Run{ID: id, Provider: Zitadel, File: "u.csv", Columns: []string{"email"}}); err != nil || !created {
		t.Fatalf("CreateRun(%s) = created %v, %v; want true, nil", id, created, err)
	}
}

func TestAddRowsDedupesAndResumes(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r1")
	rows := []IngestRow{zrow(2, "100"), zrow(3, "200"), zrow(4, "100"), {Row: Row{Line: 5, Provider: Zitadel}, Input: []string{"", "", ""}, Invalid: "user_id: is empty"}}
	acts, err := s.AddRows(ctx, "r1", rows)
	if err != nil {
		t.Fatal(err)
	}
	want := []AddAction{AddQueue, AddQueue, AddDuplicate, AddInvalid}
	if fmt.Sprint(acts) != fmt.Sprint(want) {
		t.Fatalf("AddRows = %v, want %v", acts, want)
	}
	o, ok, _ := s.Outcome(ctx, "r1", 4)
	if !ok || o.Outcome != Duplicate || o.Message != "duplicate of line 2" {
		t.Fatalf("Outcome(line 4) = %+v, %v; want duplicate of line 2", o, ok)
	}
	if _, _, err := s.Record(ctx, "r1", 2, OutcomeRecord{Outcome: Reactivated, HTTPStatus: 200}); err != nil {
		t.Fatal(err)
	}
	// Ingesting the same rows again: line 2 is done, line 3 still to queue.
	acts, err = s.AddRows(ctx, "r1", rows)
	if err != nil {
		t.Fatal(err)
	}
	want = []AddAction{AddDone, AddAlreadyQueued, AddDuplicate, AddInvalid}
	if fmt.Sprint(acts) != fmt.Sprint(want) {
		t.Fatalf("AddRows again = %v, want %v", acts, want)
	}
	r, _ := s.Run(ctx, "r1")
	if r.Done != 3 || r.Counts[Duplicate] != 1 || r.Counts[Invalid] != 1 || r.MaxLine != 5 {
		t.Fatalf("Run = done %d counts %v max %d; want 3, one duplicate one invalid, 5", r.Done, r.Counts, r.MaxLine)
	}
}

func TestRunFinishesOnLastOutcome(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r2")
	if _, err := s.AddRows(ctx, "r2", []IngestRow{zrow(2, "1"), zrow(3, "2")}); err != nil {
		t.Fatal(err)
	}
	// Workers may finish rows before ingest knows the total.
	if _, fin, _ := s.Record(ctx, "r2", 2, OutcomeRecord{Outcome: Reactivated}); fin {
		t.Fatal("Record(line 2) finished the run before its total was known")
	}
	if _, fin, _ := s.Record(ctx, "r2", 3, OutcomeRecord{Outcome: NotFound}); fin {
		t.Fatal("Record(line 3) finished the run before its total was known")
	}
	fin, err := s.SetTotal(ctx, "r2", 2)
	if err != nil || !fin {
		t.Fatalf("SetTotal = %v, %v; want true (every row done)", fin, err)
	}
	r, _ := s.Run(ctx, "r2")
	if r.State != RunFinished || r.Failures() != 1 {
		t.Fatalf("Run = state %s failures %d; want finished, 1", r.State, r.Failures())
	}
}

func TestRecordFirstOutcomeWinsUnderRace(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r3")
	if _, err := s.AddRows(ctx, "r3", []IngestRow{zrow(2, "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, "r3", 1); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	recorded, finished := 0, 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, fin, err := s.Record(ctx, "r3", 2, OutcomeRecord{Outcome: Reactivated})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if rec {
				recorded++
			}
			if fin {
				finished++
			}
		}()
	}
	wg.Wait()
	r, _ := s.Run(ctx, "r3")
	if recorded != 1 || finished != 1 || r.Done != 1 {
		t.Fatalf("20 racing Records: recorded %d, finished %d, done %d; want 1, 1, 1", recorded, finished, r.Done)
	}
}

func TestBeginMarksUnconcludedAttemptsAmbiguous(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r4")
	if _, err := s.AddRows(ctx, "r4", []IngestRow{zrow(2, "1"), zrow(3, "2")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		line    int
		steps   func()
		wantN   int
		wantAmb bool
	}{
		{name: "first attempt", line: 2, steps: func() {}, wantN: 1},
		{name: "after a clean transient answer", line: 2, steps: func() { _ = s.EndAttempt(ctx, "r4", 2, false) }, wantN: 2},
		{name: "after a worker died mid-call", line: 2, steps: func() {}, wantN: 3, wantAmb: true},
		{name: "ambiguity stays after a clean answer", line: 2, steps: func() { _ = s.EndAttempt(ctx, "r4", 2, false) }, wantN: 4, wantAmb: true},
		{name: "after a timeout", line: 3, steps: func() {
			_, _ = s.Begin(ctx, Zitadel, "r4", 3)
			_ = s.EndAttempt(ctx, "r4", 3, true)
		}, wantN: 2, wantAmb: true},
	}
	for _, tt := range tests {
		tt.steps()
		a, err := s.Begin(ctx, Zitadel, "r4", tt.line)
		if err != nil || a.N != tt.wantN || a.MaybeApplied != tt.wantAmb || a.Done {
			t.Errorf("%s: Begin = %+v, %v; want N %d MaybeApplied %v", tt.name, a, err, tt.wantN, tt.wantAmb)
		}
	}
	if _, _, err := s.Record(ctx, "r4", 2, OutcomeRecord{Outcome: Reactivated, Reason: ReasonConfirmedOnRetry}); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Begin(ctx, Zitadel, "r4", 2); !a.Done {
		t.Errorf("Begin after Record = %+v; want Done (no second call)", a)
	}
}

func TestCancelEndsRowsNotInFlight(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r5")
	if _, err := s.AddRows(ctx, "r5", []IngestRow{zrow(2, "1"), zrow(3, "2"), zrow(4, "3"), zrow(5, "4")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, "r5", 4); err != nil {
		t.Fatal(err)
	}
	_, _, _ = s.Record(ctx, "r5", 2, OutcomeRecord{Outcome: Reactivated})
	_, _ = s.Begin(ctx, Zitadel, "r5", 3) // in flight
	n, fin, err := s.Cancel(ctx, "r5")
	if err != nil || n != 2 || fin {
		t.Fatalf("Cancel = %d, %v, %v; want 2 rows cancelled, run not finished (line 3 in flight)", n, fin, err)
	}
	if _, fin, _ := s.Record(ctx, "r5", 3, OutcomeRecord{Outcome: Reactivated}); !fin {
		t.Fatal("Record(in-flight row) after cancel did not finish the run")
	}
	r, _ := s.Run(ctx, "r5")
	if r.Counts[Cancelled] != 2 || r.Counts[Reactivated] != 2 || !r.Cancelled {
		t.Fatalf("Run counts = %v, cancelled %v; want 2 cancelled, 2 reactivated", r.Counts, r.Cancelled)
	}
	if a, _ := s.Begin(ctx, Zitadel, "r5", 4); !a.Done {
		t.Fatalf("Begin(cancelled row) = %+v; want Done", a)
	}
}

// TestCancelSaysWhenAnEarlierAttemptMayHaveReached: a row whose earlier attempt may have reached
// the provider (a timeout or 5xx after sending) ends cancelled saying so, to be checked by hand;
// a row whose attempt surely did not, and a row never called, end cancelled as not called.
func TestCancelSaysWhenAnEarlierAttemptMayHaveReached(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r5a")
	if _, err := s.AddRows(ctx, "r5a", []IngestRow{zrow(2, "1"), zrow(3, "2"), zrow(4, "3")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, "r5a", 3); err != nil {
		t.Fatal(err)
	}
	for line, ambiguous := range map[int]bool{2: true, 3: false} {
		if _, err := s.Begin(ctx, Zitadel, "r5a", line); err != nil {
			t.Fatal(err)
		}
		if err := s.EndAttempt(ctx, "r5a", line, ambiguous); err != nil {
			t.Fatal(err)
		}
	}
	if n, fin, err := s.Cancel(ctx, "r5a"); err != nil || n != 3 || !fin {
		t.Fatalf("Cancel = %d, %v, %v; want 3 rows cancelled and the run finished", n, fin, err)
	}
	for line, want := range map[int]string{
		2: "an earlier attempt may have reached the provider: check the account",
		3: "before this row was called",
		4: "before this row was called",
	} {
		o, ok, err := s.Outcome(ctx, "r5a", line)
		if err != nil || !ok || o.Outcome != Cancelled || !strings.Contains(o.Message, want) {
			t.Errorf("line %d = %+v, %v, %v; want cancelled saying %q", line, o, ok, err, want)
		}
	}
}

func TestEachRowInLineOrder(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r6")
	var rows []IngestRow
	for l := 2; l <= 2500; l++ {
		rows = append(rows, zrow(l, fmt.Sprint(l)))
	}
	if _, err := s.AddRows(ctx, "r6", rows); err != nil {
		t.Fatal(err)
	}
	_, _, _ = s.Record(ctx, "r6", 1500, OutcomeRecord{Outcome: NotFound, HTTPStatus: 404})
	next, pending := 2, 0
	err := s.EachRow(ctx, "r6", func(r ReportRow) error {
		if r.Line != next {
			return fmt.Errorf("line %d after %d", r.Line, next-1)
		}
		next++
		if r.Pending {
			pending++
		} else if r.Line != 1500 || r.Outcome.Outcome != NotFound {
			return fmt.Errorf("line %d: outcome %+v", r.Line, r.Outcome)
		}
		return nil
	})
	if err != nil || next != 2501 || pending != 2498 {
		t.Fatalf("EachRow = %v, ended at %d with %d pending; want nil, 2501, 2498", err, next, pending)
	}
}

func TestRunNotFound(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	if _, err := s.Run(ctx, "nope"); !errors.Is(err, ErrRunNotFound) {
		t.Fatalf("Run(nope) = %v, want ErrRunNotFound", err)
	}
}

// TestReserveSpacesSlots reserves on a stopped clock, so that every wait is exact: burst 2 gives
// two slots at once, then one every 100ms, whatever the machine's load.
func TestReserveSpacesSlots(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	s.budgetClock = clock.Func(func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) })
	var waits []time.Duration
	for i := 0; i < 5; i++ {
		d, ok, err := s.Reserve(ctx, Stytch, 10, 2, time.Second)
		if err != nil || !ok {
			t.Fatalf("Reserve #%d = %v, %v, %v; want a slot", i, d, ok, err)
		}
		waits = append(waits, d)
	}
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	if !slices.Equal(waits, want) {
		t.Fatalf("Reserve waits = %v, want %v", waits, want)
	}
	if d, ok, _ := s.Reserve(ctx, Stytch, 10, 2, 200*time.Millisecond); ok || d != 400*time.Millisecond {
		t.Fatalf("Reserve beyond maxWait = %v, %v; want no slot and a wait of 400ms", d, ok)
	}
	if d, ok, _ := s.Reserve(ctx, Stytch, 10, 2, time.Second); !ok || d != 400*time.Millisecond {
		t.Fatalf("Reserve after one beyond maxWait = %v, %v; want the slot it did not take, 400ms", d, ok)
	}
	if d, ok, _ := s.Reserve(ctx, Zitadel, 10, 1, 0); !ok || d != 0 {
		t.Fatalf("Reserve(other provider) = %v, %v; want its own budget, free", d, ok)
	}
}

// TestReserveOnRedisClock reserves on Redis's own clock, as the fleet does: a fresh budget
// gives its burst at once, and then a slot further away.
func TestReserveOnRedisClock(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	for i := range 2 {
		if d, ok, err := s.Reserve(ctx, Stytch, 0.001, 2, time.Hour); err != nil || !ok || d != 0 {
			t.Fatalf("Reserve #%d of a burst of 2 = %v, %v, %v; want a slot now", i, d, ok, err)
		}
	}
	if d, ok, err := s.Reserve(ctx, Stytch, 0.001, 2, time.Hour); err != nil || !ok || d <= 0 {
		t.Fatalf("Reserve past the burst = %v, %v, %v; want a slot later", d, ok, err)
	}
}

// TestBeginOfAPausedProviderCountsNothing: the pause is read with Begin, right before the call;
// a paused provider's row is not called, its attempt not counted, and after the pause clears the
// row's first attempt is still number 1. The ambiguous attempt's start is kept for the read.
func TestBeginOfAPausedProviderCountsNothing(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r7")
	if _, err := s.AddRows(ctx, "r7", []IngestRow{zrow(2, "1"), zrow(3, "2")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPaused(ctx, Pause{Provider: Zitadel, Reason: "HTTP 401"}); err != nil {
		t.Fatal(err)
	}
	a, err := s.Begin(ctx, Zitadel, "r7", 2)
	if err != nil || a.Paused == nil || a.Paused.Reason != "HTTP 401" {
		t.Fatalf("Begin while paused = %+v, %v; want Paused with its reason", a, err)
	}
	if a, _ := s.Begin(ctx, Stytch, "r7", 3); a.Paused != nil || a.N != 1 {
		t.Fatalf("Begin for another provider = %+v; want not paused, attempt 1", a)
	}
	if err := s.ClearPaused(ctx, Zitadel); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)
	a, err = s.Begin(ctx, Zitadel, "r7", 2)
	if err != nil || a.Paused != nil || a.N != 1 {
		t.Fatalf("Begin after the pause = %+v, %v; want attempt 1: the paused Begin counted nothing", a, err)
	}
	if err := s.EndAttempt(ctx, "r7", 2, true); err != nil {
		t.Fatal(err)
	}
	a, _ = s.Begin(ctx, Zitadel, "r7", 2)
	if !a.MaybeApplied || a.AmbiguousSince.Before(start) || a.AmbiguousSince.After(time.Now()) {
		t.Fatalf("Begin after an ambiguous attempt = %+v; want MaybeApplied with the start of that attempt", a)
	}
}

// TestBeginOfAGoneRunCallsNothing: a task whose run was pruned while it waited must not call
// the provider, nor bring the run's keys back.
func TestBeginOfAGoneRunCallsNothing(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	a, err := s.Begin(ctx, Zitadel, "pruned-run", 2)
	if err != nil || !a.Done {
		t.Fatalf("Begin(a run that is gone) = %+v, %v; want Done: no call", a, err)
	}
	if n, _ := s.Redis().Exists(ctx, attKey("pruned-run"), runKey("pruned-run")).Result(); n != 0 {
		t.Fatalf("Begin(a run that is gone) left %d keys of it, want 0", n)
	}
}

func TestBeginOfARunPrunedUnderItsOutcomeCallsNothing(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "r8")
	if _, err := s.AddRows(ctx, "r8", []IngestRow{zrow(2, "1"), zrow(3, "2")}); err != nil {
		t.Fatal(err)
	}
	// The run is pruned while a row's call is on the wire; its outcome, recorded afterwards,
	// writes counters into a run hash that no longer has the run's fields.
	if err := s.rdb.Del(ctx, runKey("r8")).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Record(ctx, "r8", 2, OutcomeRecord{Outcome: Reactivated}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.rdb.Exists(ctx, runKey("r8")).Result(); n != 1 {
		t.Fatalf("run key after the late outcome: exists %d, want 1 (the case under test)", n)
	}
	a, err := s.Begin(ctx, Zitadel, "r8", 3)
	if err != nil || !a.Done || a.N != 0 {
		t.Errorf("Begin of a row of the pruned run = %+v, %v; want Done and no attempt: never called", a, err)
	}
}
