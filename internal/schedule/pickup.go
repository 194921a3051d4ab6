// This file is responsible for the inbox pick-up that schedules use: it claims each new file of
// an inbox atomically, ingests it as a run and files it under done/ or failed/, so that a file is
// ingested once however many workers pick up the same inbox at once.

package schedule

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"reactivator/ingest"
	"reactivator/jobs"
)

// The folders of an inbox. A picked-up file moves <inbox>/x.csv → processing/x.csv → done/x.csv
// once its run is queued, or failed/x.csv with x.csv.error.txt beside it when it is refused.
const (
	ProcessingDir = "processing"
	DoneDir       = "done"
	FailedDir     = "failed"
)

// DefaultStaleAfter is PickupHandler.StaleAfter's default: a file in processing/ untouched for
// this long belonged to a worker that died mid-ingest, and is picked up again.
const DefaultStaleAfter = 5 * time.Minute

// Run extras a pick-up records on its runs (jobs.Run.Extra).
const (
	// ExtraReportPath is where the run's CSV report is written when the run finishes.
	ExtraReportPath = "report_path"
	// ExtraSchedule is the schedule that picked the run's file up.
	ExtraSchedule = "schedule"
)

// pickup is one pick-up under way: the spec, with the handler's clock, logger and stale limit.
type pickup struct {
	jobs.PickupSpec
	staleAfter time.Duration
	now        func() time.Time
	log        *slog.Logger
}

// Picked is what became of one file a pick-up claimed.
type Picked struct {
	// File is the file's base name in the inbox.
	File string
	// Result is the ingestion's result; its RunID is "" when the file was refused.
	Result ingest.Result
	// Err is why the file was refused (nil when it was ingested); its message is in the
	// .error.txt beside the file in failed/.
	Err error
	// MovedTo is where the file ended: done/… or failed/… .
	MovedTo string
	// ReportPath is where the run's report is (or will be, once the run finishes) written; "" when
	// the spec has no Reports directory or the file was refused.
	ReportPath string
}

// Pickup claims and ingests every file of the inbox that s names, in name order, and
// returns what became of each. It is safe to run by many workers at once over one inbox: a file
// is claimed by renaming it into processing/ (atomic on one file system; the worker that loses
// the race finds it gone and skips it), and a file ingested twice anyway (a worker taken for dead
// while alive) is one run, as the run id comes from the file's bytes.
//
// A file the ingester refuses (not a CSV, another provider's, …) goes to failed/ with the reason
// in <name>.error.txt; Pickup goes on with the next file. When the ingestion fails for a reason
// that may pass (Redis unreachable, ctx done), the file goes back to the inbox and Pickup returns
// the error, with what it did before, so that the task is retried.
//
// Files left in processing/ for longer than h.StaleAfter by a worker that died are moved back to
// the inbox and picked up with the rest.
func (h *PickupHandler) Pickup(ctx context.Context, s jobs.PickupSpec) ([]Picked, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if h.StaleAfter < 0 {
		return nil, errors.New("pickup: StaleAfter must not be negative")
	}
	spec := pickup{PickupSpec: s, staleAfter: h.StaleAfter, now: h.Now, log: h.Logger}
	if spec.staleAfter == 0 {
		spec.staleAfter = DefaultStaleAfter
	}
	if spec.now == nil {
		spec.now = time.Now
	}
	if spec.log == nil {
		spec.log = slog.New(slog.DiscardHandler)
	}
	cfg := h.Ingest
	if cfg.Store == nil || cfg.DryRun {
		return nil, errors.New("pickup: needs Ingest with a Store, not a dry run")
	}
	if spec.Provider != "" {
		cfg.Options.Provider = spec.Provider
	}
	cfg.RunRate = spec.Rate
	ing, err := ingest.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("pickup: %w", err)
	}
	st, err := os.Stat(spec.Inbox)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: %w", spec.Inbox, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("inbox %s: not a directory", spec.Inbox)
	}
	for _, d := range []string{ProcessingDir, DoneDir, FailedDir} {
		if err := os.MkdirAll(filepath.Join(spec.Inbox, d), 0o750); err != nil {
			return nil, fmt.Errorf("inbox %s: %w", spec.Inbox, err)
		}
	}
	if spec.Reports != "" {
		if err := os.MkdirAll(spec.Reports, 0o750); err != nil {
			return nil, fmt.Errorf("reports %s: %w", spec.Reports, err)
		}
	}
	reclaimStale(spec)

	names, err := candidates(spec)
	if err != nil {
		return nil, err
	}
	var out []Picked
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		p, claimed, err := pickOne(ctx, ing, cfg.Store, spec, name)
		if err != nil {
			return out, err
		}
		if claimed {
			out = append(out, p)
		}
	}
	return out, nil
}

// candidates lists the inbox files to try, by name: regular, not hidden, matching, settled.
func candidates(spec pickup) ([]string, error) {
	entries, err := os.ReadDir(spec.Inbox)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: %w", spec.Inbox, err)
	}
	now := spec.now()
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		if ok, _ := filepath.Match(spec.FilePattern(), name); !ok {
			continue
		}
		if spec.Settle > 0 {
			info, err := e.Info()
			if err != nil || now.Sub(info.ModTime()) < spec.Settle {
				continue
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// reclaimStale moves files that a dead worker left in processing/ back to the inbox. A file whose
// name is taken in the inbox (a new file of the same name) waits for that one to be processed.
func reclaimStale(spec pickup) {
	dir := filepath.Join(spec.Inbox, ProcessingDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	now := spec.now()
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(lastChange(info)) < spec.staleAfter {
			continue
		}
		src := filepath.Join(dir, e.Name())
		if err := renameNoReplace(src, filepath.Join(spec.Inbox, e.Name())); err == nil {
			spec.log.Warn("picking up again a file left in processing by a worker that stopped",
				"schedule", spec.Schedule, "file", src, "idle", now.Sub(lastChange(info)).Round(time.Second))
		}
	}
}

// pickOne claims, ingests and files one inbox file. claimed is false when another worker had it.
func pickOne(ctx context.Context, in *ingest.Ingester, store *jobs.Store, spec pickup, name string) (Picked, bool, error) {
	p := Picked{File: name}
	src := filepath.Join(spec.Inbox, name)
	work := filepath.Join(spec.Inbox, ProcessingDir, name)
	if err := renameNoReplace(src, work); err != nil {
		// Gone: another worker claimed it. Exists: a file of that name is still processing; this
		// one waits for a later pick-up.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			spec.log.Warn("cannot claim file", "schedule", spec.Schedule, "file", src, "err", err)
		}
		return p, false, nil
	}
	log := spec.log.With("schedule", spec.Schedule, "file", name)
	stop := keepFresh(work, spec.staleAfter/4, spec.now)
	res, err := in.IngestFile(ctx, work)
	stop()

	if err != nil {
		if _, serr := os.Lstat(work); errors.Is(serr, fs.ErrNotExist) {
			// Taken back from processing/ by another worker (it looked stale): that one has it.
			log.Warn("file was taken over by another worker during its ingestion", "err", err)
			return p, false, nil
		}
		if transient(ctx, store, err) {
			if rerr := renameNoReplace(work, src); rerr != nil {
				log.Warn("ingest failed; the file stays in processing and is picked up again later", "err", err)
			} else {
				log.Warn("ingest failed; the file is back in the inbox for the next pick-up", "err", err)
			}
			return p, true, fmt.Errorf("pick up %s: %w", src, err)
		}
		p.Err = err
		dest, merr := moveUnique(work, filepath.Join(spec.Inbox, FailedDir), name)
		if merr != nil {
			return p, true, fmt.Errorf("pick up %s: refused (%v), and cannot move it to %s: %w", src, err, FailedDir, merr)
		}
		p.MovedTo = dest
		if werr := os.WriteFile(dest+".error.txt", []byte(err.Error()+"\n"), 0o640); werr != nil {
			log.Error("cannot write the error file", "path", dest+".error.txt", "err", werr)
		}
		log.Warn("file refused", "moved_to", dest, "err", err)
		return p, true, nil
	}
	p.Result = res

	ctx = context.WithoutCancel(ctx) // the run is queued: file it even if we are being stopped
	if spec.Schedule != "" {
		if err := store.SetRunExtra(ctx, res.RunID, ExtraSchedule, spec.Schedule); err != nil {
			return p, true, fmt.Errorf("pick up %s: %w", src, err)
		}
	}
	if spec.Reports != "" {
		p.ReportPath = filepath.Join(spec.Reports, res.RunID+".report.csv")
		if err := store.SetRunExtra(ctx, res.RunID, ExtraReportPath, p.ReportPath); err != nil {
			return p, true, fmt.Errorf("pick up %s: %w", src, err)
		}
	}
	dest, err := moveUnique(work, filepath.Join(spec.Inbox, DoneDir), name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Taken for stale and moved back by another worker while we ingested: that worker's
		// ingestion is the same run and files it.
		log.Warn("file was picked up again by another worker while it was ingested; same run", "run", res.RunID)
	case err != nil:
		return p, true, fmt.Errorf("pick up %s: run %s queued, but cannot move the file to %s: %w", src, res.RunID, DoneDir, err)
	default:
		p.MovedTo = dest
	}
	log.Info("file picked up", "run", res.RunID, "rows", res.Rows, "queued", res.Queued,
		"already_queued", res.AlreadyQueued, "already_done", res.AlreadyDone, "invalid", res.Invalid,
		"duplicate", res.Duplicate, "moved_to", p.MovedTo, "report", p.ReportPath)

	// The run may have finished before its report path was recorded (every row invalid, or fast
	// workers): then no run:finished handler saw the path, so write the report here. Writing it
	// twice is harmless: each write replaces the file whole.
	if p.ReportPath != "" {
		run, err := store.Run(ctx, res.RunID)
		if err == nil && run.State == jobs.RunFinished {
			err = WriteReportFile(ctx, store, run.ID, p.ReportPath)
		}
		if err != nil {
			log.Error("cannot write the report of a finished run", "run", res.RunID, "err", err)
		}
	}
	return p, true, nil
}

// transient reports whether an ingestion error may pass by itself (the file should be tried
// again), as opposed to a refusal of the file.
func transient(ctx context.Context, store *jobs.Store, err error) bool {
	var ne net.Error
	var re redis.Error
	switch {
	case ctx.Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne), errors.As(err, &re), errors.Is(err, redis.ErrClosed):
		return true
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return store.Redis().Ping(pctx).Err() != nil
}

// keepFresh touches path every interval until stop is called, so other workers do not take a
// long ingestion for a dead one. The first touch is immediate: the claim itself.
func keepFresh(path string, interval time.Duration, now func() time.Time) (stop func()) {
	touch := func() { t := now(); _ = os.Chtimes(path, t, t) }
	touch()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(max(interval, time.Second))
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				touch()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// moveUnique moves src into dir under name, or under name with a number before its extension
// ("x.1.csv") when a file of that name is already there: nothing in done/ or failed/ is replaced.
func moveUnique(src, dir, name string) (string, error) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		cand := name
		if i > 0 {
			cand = base + "." + strconv.Itoa(i) + ext
		}
		dest := filepath.Join(dir, cand)
		err := renameNoReplace(src, dest)
		if err == nil {
			return dest, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("move %s: %s holds a thousand files named like it", src, dir)
}

// renameIfAbsent renames oldpath to newpath unless newpath exists, in two steps.
func renameIfAbsent(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); err == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	}
	return os.Rename(oldpath, newpath)
}
