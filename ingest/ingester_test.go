// This file tests the Ingester end to end against a private redis-server: runs, outcomes, rows
// waiting for the window, idempotent re-ingestion, dry runs, refused files and cancellation.

package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
	"reactivator/jobs"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) != "" {
		os.Exit(benchChild())
	}
	redistest.Main(m)
}

// bundle is one test's private database with the clients that share it.
type bundle struct {
	rdb    *redis.Client
	store  *jobs.Store
	client *asynq.Client
	insp   *asynq.Inspector
}

func setup(t *testing.T) bundle {
	t.Helper()
	srv := redistest.Shared(t)
	opt := asynq.RedisClientOpt{Addr: srv.Addr, DB: srv.NextDB()}
	b := bundle{
		rdb:    redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB}),
		client: asynq.NewClient(opt),
		insp:   asynq.NewInspector(opt),
	}
	b.store = jobs.NewStore(b.rdb)
	t.Cleanup(func() {
		_ = b.insp.Close()
		_ = b.client.Close()
		_ = b.rdb.Close()
	})
	return b
}

// ingester returns an Ingester over the bundle's store and client with cfg's other settings.
func (b bundle) ingester(t *testing.T, cfg Config) *Ingester {
	t.Helper()
	if !cfg.DryRun {
		cfg.Store, cfg.Enqueuer = b.store, b.client
	}
	in, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return in
}

// pending returns the pending tasks of queue q by task id.
func (b bundle) pending(t *testing.T, q string) map[string]*asynq.TaskInfo {
	t.Helper()
	out := map[string]*asynq.TaskInfo{}
	for page := 1; ; page++ {
		ts, err := b.insp.ListPendingTasks(q, asynq.PageSize(1000), asynq.Page(page))
		if err != nil {
			if errors.Is(err, asynq.ErrQueueNotFound) {
				return out
			}
			t.Fatalf("ListPendingTasks(%s) = %v", q, err)
		}
		if len(ts) == 0 {
			return out
		}
		for _, ti := range ts {
			if _, dup := out[ti.ID]; dup {
				t.Fatalf("ListPendingTasks(%s) lists task %s twice", q, ti.ID)
			}
			out[ti.ID] = ti
		}
	}
}

// waiting claims every row of a run that waits for the window, as a worker would, and returns
// them by line. It moves the run's window cursor: call it last.
func (b bundle) waiting(t *testing.T, p jobs.Provider, runID string) map[int]jobs.Row {
	t.Helper()
	out := map[int]jobs.Row{}
	for {
		c, err := b.store.ClaimRows(context.Background(), p, runID, 500)
		if err != nil {
			t.Fatalf("ClaimRows(%s) = %v", runID, err)
		}
		for _, r := range c.Rows {
			if _, dup := out[r.Line]; dup {
				t.Fatalf("ClaimRows(%s) hands out line %d twice", runID, r.Line)
			}
			out[r.Line] = r
		}
		if !c.More {
			return out
		}
	}
}

// noTasks fails the test when ingest queued an asynq task of a provider: the workers' window does.
func (b bundle) noTasks(t *testing.T) {
	t.Helper()
	for _, p := range jobs.Providers {
		if n := len(b.pending(t, p.Queue())); n != 0 {
			t.Errorf("pending %s tasks after ingest = %d, want 0: rows wait in the run store", p, n)
		}
	}
}

func (b bundle) dbSize(t *testing.T) int64 {
	t.Helper()
	n, err := b.rdb.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatalf("DBSIZE = %v", err)
	}
	return n
}

// fileRunID is the run id Ingest derives from a file's bytes.
func fileRunID(t *testing.T, p jobs.Provider, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return string(p) + "-" + hex.EncodeToString(h[:])[:12]
}

// checkSum asserts the invariant: every row read is counted exactly once.
func checkSum(t *testing.T, r Result) {
	t.Helper()
	if sum := r.Queued + r.AlreadyQueued + r.AlreadyDone + r.Invalid + r.Duplicate; sum != r.Rows {
		t.Errorf("Result %+v: Rows = %d, want the sum of the counts %d", r, r.Rows, sum)
	}
}

func TestIngestFileZitadel(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	path := filepath.Join("testdata", "ingest-zitadel.csv")
	var last Progress
	in := b.ingester(t, Config{Progress: func(p Progress) { last = p }})
	got, err := in.IngestFile(ctx, path)
	if err != nil {
		t.Fatalf("IngestFile(%s) = %v", path, err)
	}
	runID := fileRunID(t, jobs.Zitadel, path)
	want := Result{RunID: runID, File: "ingest-zitadel.csv", Provider: jobs.Zitadel, Rows: 5, Queued: 3, Invalid: 1, Duplicate: 1}
	if got != want {
		t.Fatalf("IngestFile(%s) = %+v, want %+v", path, got, want)
	}
	checkSum(t, got)
	if last.Read != 5 || last.Total != 5 || last.Queued != 3 || last.Invalid != 1 || last.Duplicate != 1 {
		t.Errorf("last Progress = %+v, want 5 read of 5, 3 queued, 1 invalid, 1 duplicate", last)
	}

	b.noTasks(t)
	wantRows := []jobs.Row{
		{Line: 2, Provider: jobs.Zitadel, OrgID: "200000000000000001", UserID: "100000000000000001"},
		{Line: 3, Provider: jobs.Zitadel, UserID: "100000000000000002"},
		{Line: 6, Provider: jobs.Zitadel, OrgID: "200000000000000001", UserID: "100000000000000003"},
	}
	runs, err := b.store.WindowRuns(ctx, jobs.Zitadel, 10)
	if err != nil || !slices.Equal(runs, []string{runID}) {
		t.Errorf("WindowRuns(zitadel) = %v, %v; want [%s]: the run is open to the window", runs, err, runID)
	}

	run, err := b.store.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if run.File != "ingest-zitadel.csv" || run.Provider != jobs.Zitadel || run.Total != 5 || run.State != jobs.RunQueued ||
		!slices.Equal(run.Columns, []string{"email"}) || run.Counts[jobs.Invalid] != 1 || run.Counts[jobs.Duplicate] != 1 {
		t.Errorf("Run(%s) = %+v, want file ingest-zitadel.csv, zitadel, total 5, queued, columns [email], 1 invalid, 1 duplicate", runID, run)
	}
	for line, want := range map[int]struct {
		outcome jobs.Outcome
		msg     string
	}{
		4: {jobs.Invalid, `user_id "bad/id": contains a slash`},
		5: {jobs.Duplicate, "duplicate of line 2"},
	} {
		o, ok, err := b.store.Outcome(ctx, runID, line)
		if err != nil || !ok || o.Outcome != want.outcome || o.Message != want.msg {
			t.Errorf("Outcome(line %d) = %+v, %v, %v; want %s %q", line, o, ok, err, want.outcome, want.msg)
		}
	}
	var inputs []string
	err = b.store.EachRow(ctx, runID, func(r jobs.ReportRow) error {
		inputs = append(inputs, fmt.Sprintf("%d:%s", r.Line, strings.Join(r.Input, "|")))
		return nil
	})
	wantInputs := []string{
		"2:200000000000000001||100000000000000001|a@example.com",
		"3:||100000000000000002|b@example.com",
		"4:||bad/id|c@example.com",
		"5:200000000000000001||100000000000000001|a-again@example.com",
		"6:200000000000000001||100000000000000003|d, with comma",
	}
	if err != nil || !slices.Equal(inputs, wantInputs) {
		t.Errorf("EachRow inputs = %q, %v; want %q", inputs, err, wantInputs)
	}
	waiting := b.waiting(t, jobs.Zitadel, runID)
	if len(waiting) != len(wantRows) {
		t.Fatalf("rows waiting for the window = %v, want %v", waiting, wantRows)
	}
	for _, r := range wantRows {
		if got := waiting[r.Line]; got != r {
			t.Errorf("waiting row of line %d = %+v, want %+v", r.Line, got, r)
		}
	}
}

func TestIngestFileStytchWithEnvironment(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	path := filepath.Join("testdata", "ingest-stytch.csv")
	got, err := b.ingester(t, Config{StytchEnv: "test"}).IngestFile(ctx, path)
	if err != nil {
		t.Fatalf("IngestFile(%s) = %v", path, err)
	}
	runID := fileRunID(t, jobs.Stytch, path)
	want := Result{RunID: runID, File: "ingest-stytch.csv", Provider: jobs.Stytch, Rows: 5, Queued: 2, Invalid: 2, Duplicate: 1}
	if got != want {
		t.Fatalf("IngestFile(%s) = %+v, want %+v", path, got, want)
	}
	checkSum(t, got)
	b.noTasks(t)
	waiting := b.waiting(t, jobs.Stytch, runID)
	for _, r := range []jobs.Row{
		{Line: 2, Provider: jobs.Stytch, OrgID: "organization-test-aaa", MemberID: "member-test-111"},
		{Line: 4, Provider: jobs.Stytch, OrgID: "acme-slug", MemberID: "member-test-333"},
	} {
		if got := waiting[r.Line]; got != r {
			t.Errorf("waiting row of line %d = %+v, want %+v", r.Line, got, r)
		}
	}
	if len(waiting) != 2 {
		t.Errorf("rows waiting = %d, want 2", len(waiting))
	}
	for line, want := range map[int]string{
		3: "member_id \"member-live-222\": a live member id cannot be used with a test project",
		5: "duplicate of line 2",
		6: "member_id: is empty",
	} {
		o, ok, err := b.store.Outcome(ctx, runID, line)
		if err != nil || !ok || o.Message != want {
			t.Errorf("Outcome(line %d) = %+v, %v, %v; want message %q", line, o, ok, err, want)
		}
	}
}

func TestIngestAgainQueuesNothing(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	path := filepath.Join("testdata", "ingest-zitadel.csv")
	in := b.ingester(t, Config{})
	first, err := in.IngestFile(ctx, path)
	if err != nil || first.Queued != 3 {
		t.Fatalf("IngestFile = %+v, %v; want 3 queued", first, err)
	}
	again, err := in.IngestFile(ctx, path)
	if err != nil {
		t.Fatalf("IngestFile again = %v", err)
	}
	want := Result{RunID: first.RunID, File: first.File, Provider: jobs.Zitadel, Rows: 5, AlreadyQueued: 3, Invalid: 1, Duplicate: 1, Resumed: true}
	if again != want {
		t.Fatalf("IngestFile again = %+v, want %+v", again, want)
	}
	checkSum(t, again)

	// The workers record the queued rows' outcomes: the run is finished, and ingesting the file
	// a third time finds them done.
	for _, line := range []int{2, 3, 6} {
		if _, _, err := b.store.Record(ctx, first.RunID, line, jobs.OutcomeRecord{Outcome: jobs.Reactivated}); err != nil {
			t.Fatal(err)
		}
	}
	third, err := in.IngestFile(ctx, path)
	if err != nil {
		t.Fatalf("IngestFile a third time = %v", err)
	}
	want = Result{RunID: first.RunID, File: first.File, Provider: jobs.Zitadel, Rows: 5, AlreadyDone: 3, Invalid: 1, Duplicate: 1, Resumed: true, Finished: true}
	if third != want {
		t.Fatalf("IngestFile a third time = %+v, want %+v", third, want)
	}
	checkSum(t, third)
	if w := b.waiting(t, jobs.Zitadel, first.RunID); len(w) != 0 {
		t.Errorf("rows waiting after every row is done = %v, want none", w)
	}
}

func TestIngestNewRun(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	path := filepath.Join("testdata", "ingest-zitadel.csv")
	first, err := b.ingester(t, Config{}).IngestFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)) }
	fresh, err := b.ingester(t, Config{NewRun: true, Now: now}).IngestFile(ctx, path)
	if err != nil {
		t.Fatalf("IngestFile --new-run = %v", err)
	}
	want := Result{RunID: first.RunID + "-20250102T020405", File: first.File, Provider: jobs.Zitadel, Rows: 5, Queued: 3, Invalid: 1, Duplicate: 1}
	if fresh != want {
		t.Fatalf("IngestFile --new-run = %+v, want %+v", fresh, want)
	}
	if n, m := len(b.waiting(t, jobs.Zitadel, first.RunID)), len(b.waiting(t, jobs.Zitadel, fresh.RunID)); n != 3 || m != 3 {
		t.Errorf("rows waiting = %d and %d, want 3 per run", n, m)
	}
	named, err := b.ingester(t, Config{RunID: "nightly"}).IngestFile(ctx, path)
	if err != nil || named.RunID != "nightly" || named.Queued != 3 {
		t.Errorf("IngestFile --run nightly = %+v, %v; want run nightly with 3 queued", named, err)
	}
}

func TestIngestDryRunTouchesNothing(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	path := filepath.Join("testdata", "ingest-stytch.csv")
	for _, tc := range []struct {
		name  string
		store *jobs.Store
	}{
		{name: "with a store", store: b.store},
		{name: "without a store"},
	} {
		in, err := New(Config{DryRun: true, Store: tc.store, StytchEnv: "test"})
		if err != nil {
			t.Fatalf("%s: New = %v", tc.name, err)
		}
		got, err := in.IngestFile(ctx, path)
		want := Result{RunID: fileRunID(t, jobs.Stytch, path), File: "ingest-stytch.csv", Provider: jobs.Stytch, Rows: 5, Queued: 2, Invalid: 2, Duplicate: 1, DryRun: true}
		if err != nil || got != want {
			t.Errorf("%s: IngestFile(%s) = %+v, %v; want %+v", tc.name, path, got, err, want)
		}
	}
	if n := b.dbSize(t); n != 0 {
		t.Errorf("DBSIZE after dry runs = %d, want 0", n)
	}
}

func TestIngestRefusesFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		content  *string // nil: no such file
		dir      bool
		wantLine int
		wantMsg  string
	}{
		{name: "missing file", wantMsg: "no such file"},
		{name: "directory", dir: true, wantMsg: "directory"},
		{name: "empty file", content: ptr(""), wantLine: 1, wantMsg: "empty file"},
		{name: "header only", content: ptr("user_id,email\r\n"), wantLine: 1, wantMsg: "no data rows"},
		{name: "binary", content: ptr("user_id\n100\n\x89PNG\x00\x01\n"), wantLine: 3, wantMsg: "binary"},
		{name: "not UTF-8", content: ptr("user_id,email\n100,a@x\n101,caf\xe9\n"), wantLine: 3, wantMsg: "not UTF-8"},
		{name: "no usable header", content: ptr("name,note\nbob,b\n"), wantLine: 1, wantMsg: "user_id"},
		{name: "mixed providers", content: ptr("organization_id,member_id,user_id\norganization-test-a,member-test-b,100\n"), wantLine: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, ctx := setup(t), context.Background()
			path := filepath.Join(t.TempDir(), "accounts.csv")
			switch {
			case tc.dir:
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			case tc.content != nil:
				if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := b.ingester(t, Config{}).IngestFile(ctx, path)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("IngestFile(%s) = %+v, %v; want a *FileError", tc.name, got, err)
			}
			if fe.File != path || fe.Line != tc.wantLine || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("IngestFile(%s) error = %q (line %d), want one naming %s, line %d, saying %q", tc.name, err, fe.Line, path, tc.wantLine, tc.wantMsg)
			}
			if tc.wantLine > 0 && !strings.Contains(err.Error(), fmt.Sprintf("line %d", tc.wantLine)) {
				t.Errorf("IngestFile(%s) error = %q, want it to name line %d", tc.name, err, tc.wantLine)
			}
			if n := b.dbSize(t); n != 0 {
				t.Errorf("DBSIZE after refusing %s = %d, want 0", tc.name, n)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestIngestRefusesAnotherFileUnderTheSameRun(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	if _, err := b.ingester(t, Config{RunID: "r1"}).IngestFile(ctx, filepath.Join("testdata", "ingest-zitadel.csv")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte("user_id\n555\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{name: "other provider", path: filepath.Join("testdata", "ingest-stytch.csv"), want: "is a zitadel run"},
		{name: "other size", path: other, want: "holds 5 rows"},
	} {
		_, err := b.ingester(t, Config{RunID: "r1"}).IngestFile(ctx, tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("IngestFile(%s) under run r1 = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if n := len(b.waiting(t, jobs.Zitadel, "r1")); n != 3 {
		t.Errorf("rows waiting = %d, want the first file's 3", n)
	}
}

func TestIngestAllInvalidFinishesTheRun(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	data := []byte("user_id,email\nbad id,a@example.com\n,not an email\n")
	got, err := b.ingester(t, Config{}).Ingest(ctx, "dir/bad.csv", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != 2 || got.Invalid != 2 || got.Queued != 0 || !got.Finished || got.File != "bad.csv" {
		t.Fatalf("Ingest(all invalid) = %+v, want 2 rows, 2 invalid, Finished, file bad.csv", got)
	}
	checkSum(t, got)
	run, err := b.store.Run(ctx, got.RunID)
	if err != nil || run.State != jobs.RunFinished {
		t.Errorf("Run(%s) = %+v, %v; want finished", got.RunID, run, err)
	}
	if _, ok := b.pending(t, jobs.QueueControl)["finished:"+got.RunID]; !ok {
		t.Errorf("pending control tasks lack finished:%s", got.RunID)
	}
}

// cancelReader cancels a context once the writing pass (after the second Seek) has read at bytes.
type cancelReader struct {
	*bytes.Reader
	seeks, read, at int
	cancel          context.CancelFunc
}

func (c *cancelReader) Seek(off int64, whence int) (int64, error) {
	c.seeks++
	c.read = 0
	return c.Reader.Seek(off, whence)
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	if c.seeks >= 2 {
		if c.read += n; c.read >= c.at {
			c.cancel()
		}
	}
	return n, err
}

// A run a prune stopped in the middle of has lost part of its dedupe keys: ingesting its file
// again is refused rather than queueing rows it already did.
func TestIngestRefusesRunBeingPruned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	data := []byte("user_id,email\n300000000000000001,a@example.com\n300000000000000002,b@example.com\n")
	in, err := New(Config{Store: b.store, Enqueuer: b.client})
	if err != nil {
		t.Fatal(err)
	}
	first, err := in.Ingest(context.Background(), "pruned.csv", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// What a prune's first batch writes into the run's hash.
	if err := b.store.Redis().HSet(context.Background(), "reactivator:{"+first.RunID+"}:run", "pruning", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if again, err := in.Ingest(context.Background(), "pruned.csv", bytes.NewReader(data)); !errors.Is(err, jobs.ErrRunPruning) {
		t.Errorf("Ingest of a run being pruned = %+v, %v; want ErrRunPruning", again, err)
	}
	if n := len(b.waiting(t, jobs.Zitadel, first.RunID)); n != 2 {
		t.Errorf("rows waiting = %d, want the first ingest's 2", n)
	}
}

func TestIngestCancelledThenResumed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const rows = 20000
	var buf bytes.Buffer
	buf.WriteString("user_id,email\n")
	for i := range rows {
		fmt.Fprintf(&buf, "%d,u%d@example.com\n", 300000000000000000+i, i)
	}
	data := buf.Bytes()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, err := New(Config{Store: b.store, Enqueuer: b.client, BatchSize: 100, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	first, err := in.Ingest(ctx, "big.csv", &cancelReader{Reader: bytes.NewReader(data), at: len(data) / 2, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest cancelled mid-way = %+v, %v; want context.Canceled", first, err)
	}
	checkSum(t, first)
	if first.Rows == 0 || first.Rows >= rows {
		t.Fatalf("Ingest cancelled mid-way settled %d rows, want some but not all %d", first.Rows, rows)
	}
	run, err := b.store.Run(context.Background(), first.RunID)
	if err != nil || run.State != jobs.RunIngesting {
		t.Fatalf("Run after cancel = %+v, %v; want state ingesting", run, err)
	}

	again, err := in.Ingest(context.Background(), "big.csv", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Ingest again = %v", err)
	}
	checkSum(t, again)
	if again.Rows != rows || again.Queued+again.AlreadyQueued != rows || again.AlreadyQueued < first.Queued || !again.Resumed {
		t.Errorf("Ingest again = %+v, want %d rows all queued, at least %d of them already, resumed", again, rows, first.Queued)
	}
	waiting := b.waiting(t, jobs.Zitadel, first.RunID)
	if len(waiting) != rows {
		t.Fatalf("rows waiting = %d, want %d: every row exactly once", len(waiting), rows)
	}
	for i := range rows {
		r := jobs.Row{Line: i + 2, Provider: jobs.Zitadel, UserID: fmt.Sprint(300000000000000000 + i)}
		if waiting[r.Line] != r {
			t.Fatalf("waiting row of line %d = %+v, want %+v", r.Line, waiting[r.Line], r)
		}
	}
	if run, err := b.store.Run(context.Background(), first.RunID); err != nil || run.Total != rows {
		t.Errorf("Run after resume = %+v, %v; want total %d", run, err, rows)
	}
}

func TestIngestProgressIsNeverConcurrent(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	var buf bytes.Buffer
	buf.WriteString("user_id\n")
	for i := range 3000 {
		fmt.Fprintf(&buf, "%d\n", 400000000000000000+i)
	}
	var mu sync.Mutex
	var calls []Progress
	in := b.ingester(t, Config{BatchSize: 50, Progress: func(p Progress) {
		if !mu.TryLock() {
			t.Error("Progress called while another call is running")
			return
		}
		defer mu.Unlock()
		calls = append(calls, p)
	}})
	got, err := in.Ingest(ctx, "p.csv", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) == 0 {
		t.Fatal("Progress never called, want a call at the end")
	}
	end := calls[len(calls)-1]
	if end.Read != 3000 || end.Total != 3000 || end.Queued != got.Queued || end.File != "p.csv" {
		t.Errorf("last Progress = %+v, want 3000 of 3000 read, %d queued, file p.csv", end, got.Queued)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	store := jobs.NewStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}))
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = client.Close() })
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no store", cfg: Config{Enqueuer: client}, want: "Store"},
		{name: "no enqueuer", cfg: Config{Store: store}, want: "Enqueuer"},
		{name: "run id with a colon", cfg: Config{Store: store, Enqueuer: client, RunID: "a:b"}, want: "RunID"},
		{name: "unknown environment", cfg: Config{DryRun: true, StytchEnv: "prod"}, want: "StytchEnv"},
		{name: "negative concurrency", cfg: Config{DryRun: true, Concurrency: -1}, want: "Concurrency"},
		{name: "negative batch", cfg: Config{DryRun: true, BatchSize: -1}, want: "BatchSize"},
		{name: "unknown provider", cfg: Config{DryRun: true, Options: Options{Provider: "okta"}}, want: "Provider"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s) = %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}

// ExampleIngester_IngestFile checks a file without touching Redis: a dry run.
func ExampleIngester_IngestFile() {
	in, err := New(Config{DryRun: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := in.IngestFile(context.Background(), "testdata/ingest-zitadel.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("run %s: %d rows, %d to queue, %d invalid, %d duplicate\n", res.RunID, res.Rows, res.Queued, res.Invalid, res.Duplicate)
	// Output: run zitadel-ae0928db9d94: 5 rows, 3 to queue, 1 invalid, 1 duplicate
}

// checkPassOf is the check pass of the file at path.
func checkPassOf(t *testing.T, path string) Checked {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := CheckPass(path, f, Options{})
	if err != nil {
		t.Fatalf("CheckPass(%s) = %v", path, err)
	}
	return c
}

func TestRecordOfACheckedFileResumesItsRun(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	path := filepath.Join("testdata", "ingest-zitadel.csv")
	in := b.ingester(t, Config{})
	first, err := in.IngestFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c := checkPassOf(t, path)
	if c.Provider != first.Provider || c.Rows != first.Rows {
		t.Fatalf("CheckPass(%s) = %+v, want the %s file of %d rows IngestFile read", path, c.Summary, first.Provider, first.Rows)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	again, err := in.Record(ctx, c, f)
	if err != nil || again.RunID != first.RunID || !again.Resumed || again.AlreadyQueued != first.Queued || again.Queued != 0 {
		t.Errorf("Record(CheckPass(%s)) after IngestFile = %+v, %v; want run %s resumed, its %d rows already queued", path, again, err, first.RunID, first.Queued)
	}
}

func TestRecordRefusesAFileChangedSinceItsCheckPass(t *testing.T) {
	t.Parallel()
	b, ctx := setup(t), context.Background()
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte("user_id\n300000000000000001\n300000000000000002\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := checkPassOf(t, path)
	// Rewritten while `run` asks its question, say.
	if err := os.WriteFile(path, []byte("user_id\n300000000000000001\n300000000000000003\n300000000000000004\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := b.ingester(t, Config{}).Record(ctx, c, f)
	if err == nil || !strings.Contains(err.Error(), "changed since it was checked") {
		t.Errorf("Record of a file rewritten after its check pass = %+v, %v; want an error saying it changed since it was checked", got, err)
	}
	if n := b.dbSize(t); n != 0 {
		t.Errorf("DBSIZE after refusing a changed file = %d, want 0: nothing recorded", n)
	}
}

// changingReader reads as first until its second Seek, then as then: a file rewritten between
// the check pass and the record pass, with the same size.
type changingReader struct {
	first, then []byte
	seeks       int
	r           *bytes.Reader
}

func (c *changingReader) Seek(off int64, whence int) (int64, error) {
	if c.seeks++; c.seeks == 2 {
		c.r = bytes.NewReader(c.then)
	} else if c.r == nil {
		c.r = bytes.NewReader(c.first)
	}
	return c.r.Seek(off, whence)
}

func (c *changingReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestRecordFailsOnBytesChangedBetweenThePasses(t *testing.T) {
	t.Parallel()
	checked := []byte("user_id\n300000000000000001\n300000000000000002\n")
	other := []byte("user_id\n300000000000000001\n300000000000000003\n")
	for _, tc := range []struct {
		name   string
		ingest func(context.Context, *Ingester) (Result, error)
	}{
		{name: "Record", ingest: func(ctx context.Context, in *Ingester) (Result, error) {
			c, err := CheckPass("users.csv", bytes.NewReader(checked), Options{})
			if err != nil {
				return Result{}, err
			}
			return in.Record(ctx, c, bytes.NewReader(other))
		}},
		{name: "Ingest", ingest: func(ctx context.Context, in *Ingester) (Result, error) {
			return in.Ingest(ctx, "users.csv", &changingReader{first: checked, then: other})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, ctx := setup(t), context.Background()
			got, err := tc.ingest(ctx, b.ingester(t, Config{}))
			if err == nil || !strings.Contains(err.Error(), "changed between the passes") {
				t.Fatalf("%s of a file whose bytes changed between the passes = %+v, %v; want an error saying so", tc.name, got, err)
			}
			run, err := b.store.Run(ctx, got.RunID)
			if err != nil || run.Total >= 0 || run.State == jobs.RunFinished {
				t.Errorf("Run(%s) = %+v, %v; want a run whose total is not set: the changed file is not taken as whole", got.RunID, run, err)
			}
		})
	}
}
