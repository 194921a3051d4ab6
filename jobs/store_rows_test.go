package jobs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
)

// addZitadelRows records n rows of a new run, lines 2..n+1; every tenth row repeats the one before
// it and every 25th is invalid. It returns the lines that wait for the window.
func addZitadelRows(t *testing.T, s *Store, ctx context.Context, id string, n int) []int {
	t.Helper()
	if _, _, err := s.CreateRun(ctx, Run{ID: id, Provider: Zitadel, File: id + ".csv"}); err != nil {
		t.Fatal(err)
	}
	var rows []IngestRow
	var want []int
	for i := range n {
		line := i + 2
		user := fmt.Sprint(500000000000000000 + i)
		switch {
		case i%25 == 24:
			rows = append(rows, IngestRow{Row: Row{Line: line, Provider: Zitadel}, Input: []string{"", "", ""}, Invalid: "user_id: is empty"})
		case i%10 == 9:
			rows = append(rows, zrow(line, fmt.Sprint(500000000000000000+i-1)))
		default:
			rows = append(rows, zrow(line, user))
			want = append(want, line)
		}
	}
	batches := [][]IngestRow{}
	for len(rows) > 0 {
		k := min(len(rows), 97)
		batches = append(batches, rows[:k])
		rows = rows[k:]
	}
	if err := s.AddRowBatches(ctx, id, n, batches, func(int, []AddAction) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, id, n); err != nil {
		t.Fatal(err)
	}
	return want
}

func TestClaimRowsNeverHandsARowOutTwice(t *testing.T) {
	t.Parallel()
	srv := redistest.Shared(t)
	db := srv.NextDB()
	ctx := context.Background()
	s := NewStore(redis.NewClient(&redis.Options{Addr: srv.Addr, DB: db}))
	want := addZitadelRows(t, s, ctx, "claim", 3000)

	// Four workers, each with its own connection, claim until the run is exhausted.
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: db})
			defer rdb.Close()
			ws := NewStore(rdb)
			for {
				c, err := ws.ClaimRows(ctx, Zitadel, "claim", 13+w*7)
				if err != nil {
					t.Errorf("ClaimRows = %v", err)
					return
				}
				mu.Lock()
				for _, r := range c.Rows {
					if r.Provider != Zitadel || r.UserID == "" {
						t.Errorf("claimed row %+v, want a ZITADEL row with its user id", r)
					}
					got = append(got, r.Line)
				}
				mu.Unlock()
				if err := ws.AckClaim(ctx, "claim", c.ID); err != nil {
					t.Errorf("AckClaim = %v", err)
				}
				if c.Exhausted {
					return
				}
			}
		}()
	}
	wg.Wait()
	sort.Ints(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claimed lines (%d) differ from the rows to queue (%d): every valid first row exactly once", len(got), len(want))
	}
}

func TestClaimRowsSkipsRowsWithAnOutcome(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "skip")
	if _, err := s.AddRows(ctx, "skip", []IngestRow{zrow(2, "1"), zrow(3, "2"), zrow(4, "3")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Record(ctx, "skip", 3, OutcomeRecord{Outcome: Reactivated}); err != nil {
		t.Fatal(err)
	}
	c, err := s.ClaimRows(ctx, Zitadel, "skip", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 2 || c.Rows[0].Line != 2 || c.Rows[1].Line != 4 || c.Exhausted {
		t.Fatalf("ClaimRows = %+v, want lines 2 and 4, not exhausted (ingest has not set the total)", c)
	}
	// While ingesting, more rows may come: the cursor resumes after the last line looked at.
	if _, err := s.AddRows(ctx, "skip", []IngestRow{zrow(5, "4")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, "skip", 4); err != nil {
		t.Fatal(err)
	}
	c2, err := s.ClaimRows(ctx, Zitadel, "skip", 10)
	if err != nil || len(c2.Rows) != 1 || c2.Rows[0].Line != 5 || c2.Exhausted {
		t.Fatalf("ClaimRows after more rows = %+v, %v; want line 5, not exhausted (two claims outstanding)", c2, err)
	}
	for _, id := range []string{c.ID, c2.ID} {
		if err := s.AckClaim(ctx, "skip", id); err != nil {
			t.Fatal(err)
		}
	}
	c3, err := s.ClaimRows(ctx, Zitadel, "skip", 10)
	if err != nil || len(c3.Rows) != 0 || !c3.Exhausted {
		t.Fatalf("ClaimRows at the end = %+v, %v; want no rows, exhausted", c3, err)
	}
	if _, err := s.ClaimRows(ctx, Zitadel, "nope", 10); err == nil {
		t.Errorf("ClaimRows(unknown run) = nil error, want ErrRunNotFound")
	}
}

func TestReclaimStaleHandsOutAnUnacknowledgedClaim(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	want := addZitadelRows(t, s, ctx, "stale", 40)
	c, err := s.ClaimRows(ctx, Zitadel, "stale", 10)
	if err != nil || len(c.Rows) != 10 {
		t.Fatalf("ClaimRows = %+v, %v; want 10 rows", c, err)
	}
	// Its worker dies here. Within the lease nobody else takes it.
	if r, err := s.ReclaimStale(ctx, Zitadel, "stale", time.Hour); err != nil || r.ID != "" {
		t.Fatalf("ReclaimStale within the lease = %+v, %v; want none", r, err)
	}
	if _, _, err := s.Record(ctx, "stale", want[0], OutcomeRecord{Outcome: Reactivated}); err != nil {
		t.Fatal(err)
	}
	r, err := s.ReclaimStale(ctx, Zitadel, "stale", 0)
	if err != nil || r.ID != c.ID || len(r.Rows) != 9 || r.Rows[0].Line != want[1] {
		t.Fatalf("ReclaimStale = %+v, %v; want claim %s with its 9 rows still without an outcome", r, err, c.ID)
	}
	// The repairing worker renewed the lease: a second one finds nothing.
	if again, err := s.ReclaimStale(ctx, Zitadel, "stale", time.Second); err != nil || again.ID != "" {
		t.Fatalf("ReclaimStale right after a repair = %+v, %v; want none", again, err)
	}
	if err := s.AckClaim(ctx, "stale", r.ID); err != nil {
		t.Fatal(err)
	}
	if again, err := s.ReclaimStale(ctx, Zitadel, "stale", 0); err != nil || again.ID != "" {
		t.Fatalf("ReclaimStale after the ack = %+v, %v; want none", again, err)
	}
}

func TestRowBucketsStayListpack(t *testing.T) {
	t.Parallel()
	srv := redistest.Shared(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: srv.NextDB()})
	t.Cleanup(func() { _ = rdb.Close() })
	s, ctx := NewStore(rdb), context.Background()
	addZitadelRows(t, s, ctx, "compact", 5000)
	for _, key := range []string{rowsBucketKey("compact", 2), rowsBucketKey("compact", 4000), runPrefix("compact") + "seen:0", runPrefix("compact") + "seen:77"} {
		enc, err := rdb.ObjectEncoding(ctx, key).Result()
		if err != nil || enc != "listpack" {
			t.Errorf("OBJECT ENCODING %s = %q, %v; want listpack", key, enc, err)
		}
	}
}

func TestQueueClaimWritesWhatAsynqWrites(t *testing.T) {
	t.Parallel()
	srv := redistest.Shared(t)
	ctx := context.Background()
	ours := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: srv.NextDB()})
	theirsOpt := asynq.RedisClientOpt{Addr: srv.Addr, DB: srv.NextDB()}
	theirs := redis.NewClient(&redis.Options{Addr: theirsOpt.Addr, DB: theirsOpt.DB})
	t.Cleanup(func() { _ = ours.Close(); _ = theirs.Close() })
	s := NewStore(ours)
	addZitadelRows(t, s, ctx, "qc", 40)
	c, err := s.ClaimRows(ctx, Zitadel, "qc", 10)
	if err != nil || len(c.Rows) != 10 {
		t.Fatalf("ClaimRows = %+v, %v; want 10 rows", c, err)
	}
	at := time.UnixMilli(1764500000123)
	if q, k, err := s.QueueClaim(ctx, c, at, nil); err != nil || q != 10 || k != 0 {
		t.Fatalf("QueueClaim = %d queued, %d known, %v; want 10, 0", q, k, err)
	}
	if q, k, err := s.QueueClaim(ctx, c, at, nil); err != nil || q != 0 || k != 10 {
		t.Fatalf("QueueClaim again = %d queued, %d known, %v; want 0, 10: asynq holds every id", q, k, err)
	}

	// The same tasks through asynq's own client, in another database.
	cl := asynq.NewClient(theirsOpt)
	t.Cleanup(func() { _ = cl.Close() })
	for _, r := range c.Rows {
		task, err := NewReactivateTask(c.RunID, r, at)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}
	queue := Zitadel.Queue()
	for _, r := range c.Rows {
		key := "asynq:{" + queue + "}:t:" + TaskID(c.RunID, r)
		got, want := ours.HGetAll(ctx, key).Val(), theirs.HGetAll(ctx, key).Val()
		if got["msg"] != want["msg"] || got["state"] != want["state"] || len(got) != len(want) || got["pending_since"] == "" {
			t.Errorf("task hash of line %d = %q, want asynq's %q (pending_since aside)", r.Line, got, want)
		}
	}
	for _, key := range []string{"asynq:{" + queue + "}:pending", asynqAllQueues} {
		got, want := ours.Sort(ctx, key, &redis.Sort{Alpha: true}).Val(), theirs.Sort(ctx, key, &redis.Sort{Alpha: true}).Val()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want asynq's %v", key, got, want)
		}
	}

	// asynq reads them back as the tasks NewReactivateTask describes.
	insp := asynq.NewInspectorFromRedisClient(ours)
	r := c.Rows[3]
	ti, err := insp.GetTaskInfo(queue, TaskID(c.RunID, r))
	if err != nil {
		t.Fatal(err)
	}
	task, _ := NewReactivateTask(c.RunID, r, at)
	if ti.Type != task.Type() || string(ti.Payload) != string(task.Payload()) || ti.MaxRetry != TaskMaxRetry ||
		ti.Timeout != TaskTimeout || !ti.Deadline.IsZero() || ti.State != asynq.TaskStatePending || ti.Queue != queue {
		t.Errorf("GetTaskInfo = %+v, want a pending %s task of %s with its payload, %d retries, timeout %s, no deadline",
			ti, task.Type(), queue, TaskMaxRetry, TaskTimeout)
	}
}

func TestOutcomeEncodingRoundTrip(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 30, 10, 0, 0, 250e6, time.UTC)
	at := time.Date(2026, 11, 30, 12, 34, 56, 0, time.UTC)
	stamp := "9296" // 12:34:56 - 10:00:00, whole seconds, as luaRecord's stamp puts it
	cases := []OutcomeRecord{
		{Outcome: Invalid, Message: "user_id: is empty"},
		{Outcome: Reactivated, HTTPStatus: 200, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg"},
		{Outcome: Reactivated, HTTPStatus: 400, Attempts: 2, RequestID: "req-11", Reason: ReasonConfirmedOnRetry},
		{Outcome: Reactivated, Reason: ReasonAssumedOnRetry, Message: "a | in the message | twice"},
		{Outcome: NotFound, HTTPStatus: 404, Attempts: 1, RequestID: "r", Reason: "COMMAND-4M0sd", Message: "User could not be found"},
		{Outcome: Failed, Attempts: 12, Reason: "attempts_exhausted", Message: "12 failed attempts; last: timeout"},
		{Outcome: Deactivated, HTTPStatus: 0, Attempts: 1},
		{Outcome: Cancelled, Message: "run cancelled before this row was called"},
		{Outcome: Rejected, HTTPStatus: 400, RequestID: "a|b", Reason: "x"}, // kept as JSON
	}
	for _, o := range Outcomes {
		cases = append(cases, OutcomeRecord{Outcome: o, HTTPStatus: 503, Attempts: 3, RequestID: "q", Reason: "r", Message: "m"})
	}
	for _, want := range cases {
		enc := want.encode()
		got, err := decodeOutcome(stamp+enc, created)
		want.FinishedAt = at
		if err != nil || got != want {
			t.Errorf("decode(encode(%+v)) = %+v, %v (stored %q)", want, got, err, stamp+enc)
		}
	}
	if enc := (OutcomeRecord{Outcome: Reactivated, HTTPStatus: 200, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg"}).encode(); enc != "R|1|h1n0i01ksdua7m2beubg" {
		t.Errorf("a reactivated row is stored as %q, want R|1|h1n0i01ksdua7m2beubg", enc)
	}
	for _, bad := range []string{"", "12", "12?", "x"} {
		if _, err := decodeOutcome(bad, created); err == nil {
			t.Errorf("decodeOutcome(%q) = nil error, want one", bad)
		}
	}
}

// TestOutcomeBucketsStayListpack: outcomes are kept in their bucket's hash, compact enough for a
// listpack, a record too long for one in the run's overflow hash, read back whole; a row with an
// outcome keeps no attempt fields.
func TestOutcomeBucketsStayListpack(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	lines := addZitadelRows(t, s, ctx, "obuckets", 300)
	long := strings.Repeat("a long provider message ", 5)
	for _, l := range lines {
		if _, err := s.Begin(ctx, Zitadel, "obuckets", l); err != nil {
			t.Fatal(err)
		}
		o := OutcomeRecord{Outcome: Reactivated, HTTPStatus: 200, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg"}
		if l%50 == 0 {
			o = OutcomeRecord{Outcome: NotFound, HTTPStatus: 404, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg", Reason: "COMMAND-4M0sd", Message: long}
		}
		if ok, _, err := s.Record(ctx, "obuckets", l, o); err != nil || !ok {
			t.Fatalf("Record(%d) = %v, %v", l, ok, err)
		}
	}
	for _, b := range []int{0, 64, 256} {
		if enc, err := s.rdb.ObjectEncoding(ctx, outBucketKey("obuckets", b)).Result(); err != nil || enc != "listpack" {
			t.Errorf("OBJECT ENCODING of the outcomes of line %d's bucket = %q, %v; want listpack", b, enc, err)
		}
	}
	if n, err := s.rdb.Exists(ctx, attKey("obuckets")).Result(); err != nil || n != 0 {
		t.Errorf("the run keeps attempt fields after every row has its outcome (EXISTS = %d, %v)", n, err)
	}
	o, ok, err := s.Outcome(ctx, "obuckets", 100)
	if err != nil || !ok || o.Message != long || o.Outcome != NotFound || o.Reason != "COMMAND-4M0sd" {
		t.Errorf("Outcome(100) = %+v, %v, %v; want not_found with the long message", o, ok, err)
	}
	n := 0
	err = s.EachRow(ctx, "obuckets", func(r ReportRow) error {
		if r.Line%50 == 0 && r.Outcome.Outcome == NotFound {
			n++
			if r.Outcome.Message != long {
				t.Errorf("EachRow: line %d's message = %q, want the long one", r.Line, r.Outcome.Message)
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Errorf("EachRow found %d long records, %v; want some", n, err)
	}
}
