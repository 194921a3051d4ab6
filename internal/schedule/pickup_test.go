// This file tests the inbox pick-up against a private redis-server and temporary inboxes: claims,
// done/ and failed/, racing workers, stale claims, settling files and report files.

package schedule

import (
	"context"
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

	"reactivator/ingest"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// bundle is one test's private database with the clients that share it.
type bundle struct {
	store  *jobs.Store
	client *asynq.Client
}

func setup(t *testing.T) bundle {
	t.Helper()
	srv := redistest.Shared(t)
	opt := asynq.RedisClientOpt{Addr: srv.Addr, DB: srv.NextDB()}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	b := bundle{store: jobs.NewStore(rdb), client: asynq.NewClient(opt)}
	t.Cleanup(func() {
		_ = b.client.Close()
		_ = rdb.Close()
	})
	return b
}

// ingest returns the ingest settings of a pick-up over the bundle's store and client.
func (b bundle) ingest() ingest.Config {
	return ingest.Config{Store: b.store, Enqueuer: b.client}
}

// waitingAll claims every row that waits for a provider's window, as a worker would, and returns
// how many there are. It moves the runs' window cursors: call it last.
func (b bundle) waitingAll(t *testing.T, p jobs.Provider) int {
	t.Helper()
	ids, err := b.store.WindowRuns(context.Background(), p, 1000)
	if err != nil {
		t.Fatalf("WindowRuns(%s) = %v", p, err)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		for {
			c, err := b.store.ClaimRows(context.Background(), p, id, 500)
			if err != nil {
				t.Fatalf("ClaimRows(%s) = %v", id, err)
			}
			for _, r := range c.Rows {
				k := fmt.Sprintf("%s:%d", id, r.Line)
				if seen[k] {
					t.Fatalf("ClaimRows(%s) hands out line %d twice", id, r.Line)
				}
				seen[k] = true
			}
			if !c.More {
				break
			}
		}
	}
	return len(seen)
}

// inbox is a temporary inbox with a reports directory beside it.
type inbox struct {
	dir, reports string
}

func newInbox(t *testing.T) inbox {
	t.Helper()
	root := t.TempDir()
	ib := inbox{dir: filepath.Join(root, "inbox"), reports: filepath.Join(root, "reports")}
	if err := os.Mkdir(ib.dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return ib
}

// drop writes a file into the inbox.
func (ib inbox) drop(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(ib.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ls lists the file names of a folder of the inbox ("" for the inbox itself), sorted.
func (ib inbox) ls(t *testing.T, sub string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(ib.dir, sub))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}

func (ib inbox) spec() jobs.PickupSpec {
	return jobs.PickupSpec{Inbox: ib.dir, Reports: ib.reports, Schedule: "test"}
}

// pickUp does the pick-up spec with in.
func pickUp(ctx context.Context, in ingest.Config, spec jobs.PickupSpec) ([]Picked, error) {
	return (&PickupHandler{Ingest: in}).Pickup(ctx, spec)
}

// pickUpAt does the pick-up spec with in, at the time now tells.
func pickUpAt(ctx context.Context, in ingest.Config, spec jobs.PickupSpec, now func() time.Time) ([]Picked, error) {
	return (&PickupHandler{Ingest: in, Now: now}).Pickup(ctx, spec)
}

// zitadelFile is a ZITADEL CSV of n users starting at first.
func zitadelFile(first, n int) string {
	var sb strings.Builder
	sb.WriteString("user_id,email\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&sb, "1000000000000%05d,u%d@example.com\n", i, i)
	}
	return sb.String()
}

func TestPickupIngestsAndFilesEachFile(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	ib.drop(t, "a.csv", zitadelFile(1, 2))
	ib.drop(t, "b.csv", zitadelFile(10, 3))
	ib.drop(t, "notes.txt", "not a csv: pattern skips it")
	ib.drop(t, ".c.csv", zitadelFile(20, 1)) // being uploaded: hidden files are skipped
	spec := ib.spec()
	spec.Rate = 12.5
	picked, err := pickUp(ctx, b.ingest(), spec)
	if err != nil {
		t.Fatalf("Pickup = %v", err)
	}
	if len(picked) != 2 {
		t.Fatalf("Pickup picked %d files (%+v), want 2", len(picked), picked)
	}
	for i, want := range []struct {
		file string
		rows int
	}{{"a.csv", 2}, {"b.csv", 3}} {
		p := picked[i]
		if p.File != want.file || p.Err != nil || p.Result.Queued != want.rows || p.MovedTo != filepath.Join(ib.dir, DoneDir, want.file) {
			t.Errorf("Pickup[%d] = %+v, want %s queued %d rows, moved to done/", i, p, want.file, want.rows)
		}
		if wantPath := filepath.Join(ib.reports, p.Result.RunID+".report.csv"); p.ReportPath != wantPath {
			t.Errorf("Pickup[%d].ReportPath = %q, want %q", i, p.ReportPath, wantPath)
		}
		run, err := b.store.Run(ctx, p.Result.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Extra[ExtraReportPath] != p.ReportPath || run.Extra[ExtraSchedule] != "test" || run.RateLimit != 12.5 {
			t.Errorf("run %s extras = %v, want report_path %s, schedule test, rate 12.5", run.ID, run.Extra, p.ReportPath)
		}
	}
	if got, want := ib.ls(t, ""), []string{".c.csv", "notes.txt"}; !slices.Equal(got, want) {
		t.Errorf("inbox after Pickup = %v, want %v", got, want)
	}
	if got, want := ib.ls(t, DoneDir), []string{"a.csv", "b.csv"}; !slices.Equal(got, want) {
		t.Errorf("done/ = %v, want %v", got, want)
	}
	if got := ib.ls(t, ProcessingDir); len(got) != 0 {
		t.Errorf("processing/ = %v, want empty", got)
	}
	if n := b.waitingAll(t, jobs.Zitadel); n != 5 {
		t.Errorf("rows waiting for the window = %d, want 5", n)
	}

	// Nothing new: a second pick-up does nothing.
	again, err := pickUp(ctx, b.ingest(), spec)
	if err != nil || len(again) != 0 {
		t.Errorf("Pickup again = %+v, %v; want nothing picked", again, err)
	}
}

func TestPickupRefusedFileGoesToFailed(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	ib.drop(t, "bad.csv", "name,phone\nAda,123\n")
	ib.drop(t, "good.csv", zitadelFile(1, 1))
	picked, err := pickUp(ctx, b.ingest(), ib.spec())
	if err != nil {
		t.Fatalf("Pickup = %v", err)
	}
	if len(picked) != 2 || picked[0].File != "bad.csv" || picked[0].Err == nil || picked[1].Err != nil {
		t.Fatalf("Pickup = %+v, want bad.csv refused, then good.csv ingested", picked)
	}
	var fe *ingest.FileError
	if !errors.As(picked[0].Err, &fe) {
		t.Errorf("Pickup[0].Err = %v (%T), want a *FileError", picked[0].Err, picked[0].Err)
	}
	if got, want := ib.ls(t, FailedDir), []string{"bad.csv", "bad.csv.error.txt"}; !slices.Equal(got, want) {
		t.Fatalf("failed/ = %v, want %v", got, want)
	}
	msg, err := os.ReadFile(filepath.Join(ib.dir, FailedDir, "bad.csv.error.txt"))
	if err != nil || strings.TrimSpace(string(msg)) != picked[0].Err.Error() {
		t.Errorf("bad.csv.error.txt = %q, %v; want %q", msg, err, picked[0].Err.Error())
	}
	if got, want := ib.ls(t, DoneDir), []string{"good.csv"}; !slices.Equal(got, want) {
		t.Errorf("done/ = %v, want %v", got, want)
	}
	if picked[0].ReportPath != "" {
		t.Errorf("refused file's ReportPath = %q, want none", picked[0].ReportPath)
	}
}

func TestPickupWithProvider(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	// A ZITADEL file in an inbox whose schedule says stytch: it lacks Stytch's columns.
	ib.drop(t, "users.csv", zitadelFile(1, 1))
	spec := ib.spec()
	spec.Provider = jobs.Stytch
	picked, err := pickUp(ctx, b.ingest(), spec)
	if err != nil || len(picked) != 1 || picked[0].Err == nil {
		t.Fatalf("Pickup(provider stytch, zitadel file) = %+v, %v; want the file refused", picked, err)
	}
	spec.Provider = jobs.Zitadel
	ib.drop(t, "users.csv", zitadelFile(1, 1))
	picked, err = pickUp(ctx, b.ingest(), spec)
	if err != nil || len(picked) != 1 || picked[0].Err != nil || picked[0].Result.Provider != jobs.Zitadel {
		t.Fatalf("Pickup(provider zitadel) = %+v, %v; want the file ingested as zitadel", picked, err)
	}
}

func TestPickupSameFileTwiceIsOneRun(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	in := b.ingest()
	ib.drop(t, "x.csv", zitadelFile(1, 3))
	first, err := pickUp(ctx, in, ib.spec())
	if err != nil || len(first) != 1 {
		t.Fatalf("Pickup = %+v, %v", first, err)
	}
	ib.drop(t, "x.csv", zitadelFile(1, 3))
	second, err := pickUp(ctx, in, ib.spec())
	if err != nil || len(second) != 1 {
		t.Fatalf("Pickup again = %+v, %v", second, err)
	}
	if second[0].Result.RunID != first[0].Result.RunID || second[0].Result.Queued != 0 || second[0].Result.AlreadyQueued != 3 || !second[0].Result.Resumed {
		t.Errorf("second pick-up of the same bytes = %+v, want run %s resumed with 3 already queued", second[0].Result, first[0].Result.RunID)
	}
	// Nothing in done/ is replaced: the second copy gets a number.
	if got, want := ib.ls(t, DoneDir), []string{"x.1.csv", "x.csv"}; !slices.Equal(got, want) {
		t.Errorf("done/ = %v, want %v", got, want)
	}
}

func TestPickupRacingWorkersIngestEachFileOnce(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	const files = 12
	for i := range files {
		ib.drop(t, fmt.Sprintf("f%02d.csv", i), zitadelFile(i*10, 5))
	}
	const workers = 4
	var wg sync.WaitGroup
	results := make([][]Picked, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w], errs[w] = pickUp(ctx, b.ingest(), ib.spec())
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for w := range workers {
		if errs[w] != nil {
			t.Errorf("Pickup of worker %d = %v", w, errs[w])
		}
		for _, p := range results[w] {
			seen[p.File]++
			if p.Result.Queued != 5 {
				t.Errorf("worker %d ingested %s with %d queued, want 5 (a second ingestion would queue 0)", w, p.File, p.Result.Queued)
			}
		}
	}
	if len(seen) != files {
		t.Errorf("files picked = %d, want %d", len(seen), files)
	}
	for f, n := range seen {
		if n != 1 {
			t.Errorf("%s picked %d times, want once", f, n)
		}
	}
	if got := ib.ls(t, DoneDir); len(got) != files {
		t.Errorf("done/ holds %d files (%v), want %d", len(got), got, files)
	}
	runs, err := b.store.Runs(ctx)
	if err != nil || len(runs) != files {
		t.Errorf("runs = %d, %v; want %d", len(runs), err, files)
	}
	if n := b.waitingAll(t, jobs.Zitadel); n != files*5 {
		t.Errorf("rows waiting for the window = %d, want %d", n, files*5)
	}
}

func TestPickupTakesOverStaleProcessingFiles(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	// A worker claimed left.csv and died: the file sits in processing/.
	if err := os.MkdirAll(filepath.Join(ib.dir, ProcessingDir), 0o750); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(ib.dir, ProcessingDir, "left.csv")
	if err := os.WriteFile(left, []byte(zitadelFile(1, 2)), 0o600); err != nil {
		t.Fatal(err)
	}
	in := b.ingest()

	// Fresh: it belongs to a live worker and is left alone.
	picked, err := pickUp(ctx, in, ib.spec())
	if err != nil || len(picked) != 0 {
		t.Fatalf("Pickup with a fresh processing file = %+v, %v; want nothing picked", picked, err)
	}
	if got := ib.ls(t, ProcessingDir); !slices.Equal(got, []string{"left.csv"}) {
		t.Fatalf("processing/ = %v, want [left.csv] untouched", got)
	}

	// Later than StaleAfter: taken over and ingested.
	later := func() time.Time { return time.Now().Add(DefaultStaleAfter + time.Minute) }
	picked, err = pickUpAt(ctx, in, ib.spec(), later)
	if err != nil || len(picked) != 1 || picked[0].File != "left.csv" || picked[0].Result.Queued != 2 {
		t.Fatalf("Pickup with a stale processing file = %+v, %v; want left.csv ingested", picked, err)
	}
	if got := ib.ls(t, DoneDir); !slices.Equal(got, []string{"left.csv"}) {
		t.Errorf("done/ = %v, want [left.csv]", got)
	}
}

func TestPickupLeavesUnsettledFiles(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	ib.drop(t, "copying.csv", zitadelFile(1, 1))
	spec := ib.spec()
	spec.Settle = time.Hour
	picked, err := pickUp(ctx, b.ingest(), spec)
	if err != nil || len(picked) != 0 {
		t.Fatalf("Pickup(settle 1h) of a new file = %+v, %v; want it left", picked, err)
	}
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	picked, err = pickUpAt(ctx, b.ingest(), spec, later)
	if err != nil || len(picked) != 1 {
		t.Fatalf("Pickup(settle 1h) two hours later = %+v, %v; want it picked", picked, err)
	}
}

func TestPickupNameTakenInProcessingWaits(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	// Another worker is processing an x.csv; a new x.csv arrives. It must not replace the one
	// being processed, and waits.
	if err := os.MkdirAll(filepath.Join(ib.dir, ProcessingDir), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ib.dir, ProcessingDir, "x.csv"), []byte(zitadelFile(1, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	ib.drop(t, "x.csv", zitadelFile(50, 1))
	picked, err := pickUp(ctx, b.ingest(), ib.spec())
	if err != nil || len(picked) != 0 {
		t.Fatalf("Pickup = %+v, %v; want nothing picked", picked, err)
	}
	if got := ib.ls(t, ""); !slices.Equal(got, []string{"x.csv"}) {
		t.Errorf("inbox = %v, want the new x.csv waiting", got)
	}
	b1, _ := os.ReadFile(filepath.Join(ib.dir, ProcessingDir, "x.csv"))
	if string(b1) != zitadelFile(1, 1) {
		t.Errorf("processing/x.csv was replaced")
	}
}

func TestPickupRedisDownReturnsTheFile(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	ib.drop(t, "x.csv", zitadelFile(1, 1))
	// An ingester over a Redis nobody listens on.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = dead.Close() })
	in := ingest.Config{Store: jobs.NewStore(dead), Enqueuer: b.client}
	picked, err := pickUp(ctx, in, ib.spec())
	if err == nil {
		t.Fatalf("Pickup with Redis down = %+v, nil; want an error", picked)
	}
	if got := ib.ls(t, ""); !slices.Equal(got, []string{"x.csv"}) {
		t.Errorf("inbox = %v, want x.csv back for the next pick-up", got)
	}
	if got := ib.ls(t, FailedDir); len(got) != 0 {
		t.Errorf("failed/ = %v, want empty: Redis being down is no fault of the file", got)
	}
}

func TestPickupFinishedRunGetsItsReport(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	// Every row invalid: the run finishes during the ingestion, before any worker sees it.
	ib.drop(t, "bad-rows.csv", "user_id,email\nbad id,a@example.com\n")
	picked, err := pickUp(ctx, b.ingest(), ib.spec())
	if err != nil || len(picked) != 1 || picked[0].Err != nil {
		t.Fatalf("Pickup = %+v, %v", picked, err)
	}
	rep, err := os.ReadFile(picked[0].ReportPath)
	if err != nil {
		t.Fatalf("report of a run finished at pick-up: %v", err)
	}
	if !strings.HasPrefix(string(rep), "line,provider,") || !strings.Contains(string(rep), ",invalid,") {
		t.Errorf("report = %q, want a CSV report with the invalid row", rep)
	}
	if got := ib.ls(t, DoneDir); !slices.Equal(got, []string{"bad-rows.csv"}) {
		t.Errorf("done/ = %v, want [bad-rows.csv]", got)
	}
}

func TestReportOnFinishWritesTheRecordedPath(t *testing.T) {
	t.Parallel()
	b, ctx, ib := setup(t), context.Background(), newInbox(t)
	ib.drop(t, "x.csv", zitadelFile(1, 2))
	picked, err := pickUp(ctx, b.ingest(), ib.spec())
	if err != nil || len(picked) != 1 {
		t.Fatalf("Pickup = %+v, %v", picked, err)
	}
	runID := picked[0].Result.RunID
	if _, err := os.Stat(picked[0].ReportPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("report exists before the run finished (%v)", err)
	}
	for line := 2; line <= 3; line++ {
		if _, _, err := b.store.Record(ctx, runID, line, jobs.OutcomeRecord{Outcome: jobs.Reactivated, HTTPStatus: 200}); err != nil {
			t.Fatal(err)
		}
	}
	run, err := b.store.Run(ctx, runID)
	if err != nil || run.State != jobs.RunFinished {
		t.Fatalf("Run = %+v, %v; want finished", run, err)
	}
	if err := ReportOnFinish(b.store, nil)(ctx, run); err != nil {
		t.Fatalf("ReportOnFinish = %v", err)
	}
	rep, err := os.ReadFile(picked[0].ReportPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rep), ",reactivated,"); n != 2 {
		t.Errorf("report has %d reactivated rows, want 2:\n%s", n, rep)
	}
	entries, _ := os.ReadDir(ib.reports)
	if len(entries) != 1 {
		t.Errorf("reports dir holds %d entries, want the report alone (no temporary file left)", len(entries))
	}
	// A run no pick-up made has no report path: nothing is written.
	run.Extra = nil
	if err := ReportOnFinish(b.store, nil)(ctx, run); err != nil {
		t.Errorf("ReportOnFinish(run without a report path) = %v, want nil", err)
	}
}

func TestPickupHandlerDropsTasksWithoutInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &PickupHandler{Ingest: b.ingest()}
	err := h.ProcessTask(context.Background(), asynq.NewTask(jobs.TypeInboxPickup, []byte(`{"schedule":"old"}`)))
	if !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("ProcessTask(payload without inbox) = %v, want SkipRetry", err)
	}
}

func TestPickupRefusesANegativeStaleAfter(t *testing.T) {
	t.Parallel()
	b, ib := setup(t), newInbox(t)
	h := &PickupHandler{Ingest: b.ingest(), StaleAfter: -time.Second}
	if _, err := h.Pickup(context.Background(), ib.spec()); err == nil || !strings.Contains(err.Error(), "StaleAfter") {
		t.Errorf("Pickup(StaleAfter -1s) = %v, want an error naming StaleAfter", err)
	}
}
