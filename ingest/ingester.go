// An Ingester is responsible for turning one CSV file into a run: it checks the whole file, then
// records the run and its rows compactly in the run store, idempotently. Workers queue the rows
// as asynq tasks a window at a time (worker/window.go): ingest itself writes no task per row.

package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"reactivator/jobs"
)

// Defaults measured with BenchmarkIngestTable (ingest_bench_test.go) on 2 cores against a local
// redis-server: one script call records a batch of rows, and a few batches go in one round trip
// while the next ones are read, so parsing and Redis overlap; a batch holds Redis for about a
// millisecond.
const (
	// DefaultConcurrency is the number of batches sent per round trip when Config.Concurrency is 0.
	DefaultConcurrency = 4
	// DefaultBatchSize is the number of rows per script call when Config.BatchSize is 0.
	DefaultBatchSize = 250
	// progressEvery is the least time between two Progress calls.
	progressEvery = 100 * time.Millisecond
)

// Config says how an Ingester records and queues runs. Zero values are the defaults named on
// each field.
type Config struct {
	// Store is the run store. Required, except with DryRun (where it is only read when set).
	Store *jobs.Store
	// Enqueuer queues the run:finished task of a run whose rows all end at ingest (all invalid,
	// say), on the same Redis as Store. Required, except with DryRun.
	Enqueuer *asynq.Client
	// Options are the reader's options (--provider, --delimiter).
	Options Options
	// RunID names the run; "" derives it from the file: "<provider>-<12 hex of the sha256 of its
	// bytes>", so ingesting the same file again resumes the same run.
	RunID string
	// RunRate caps a new run's calls per second below its provider's limit (a schedule's
	// rate); 0 leaves only the provider's limit.
	RunRate float64
	// NewRun appends "-<UTC time yyyymmddThhmmss>" to the run id, starting a fresh run.
	NewRun bool
	// Limit, when more than 0, lets the workers' window take only the first Limit rows (in line
	// order) that have no outcome yet and holds the others in the run store (Result.Held): a
	// canary. Ingesting the file again without a limit releases them; no row is queued twice.
	Limit int
	// DryRun reads and validates the file and counts what would be queued; it writes nothing to
	// Redis. Duplicates are then found in memory (about 30 bytes per valid row).
	DryRun bool
	// StytchEnv is "test" or "live" when the Stytch project is known: rows of the other
	// environment are invalid. "" checks nothing.
	StytchEnv string
	// Concurrency is the number of batches sent to Redis in one round trip (in order, on one
	// connection), while the next ones are read; 0 means DefaultConcurrency.
	Concurrency int
	// BatchSize is the number of rows recorded per script call; 0 means DefaultBatchSize.
	BatchSize int
	// Progress, when set, is called at most every 100ms while a file is ingested and once at the
	// end, never concurrently with itself.
	Progress func(Progress)
	// Now stamps run ids (NewRun); nil means time.Now.
	Now func() time.Time
}

// Progress is how far the ingestion of one file has come.
type Progress struct {
	File string
	// Read is the number of rows read so far; Total the file's rows, counted by the check pass.
	Read, Total int
	// The counts, as in Result.
	Queued, AlreadyQueued, AlreadyDone, Invalid, Duplicate int
	// Elapsed is the wall time since the ingestion of the file started.
	Elapsed time.Duration
}

// Result is what ingesting one file did.
type Result struct {
	RunID    string
	File     string
	Provider jobs.Provider
	// Rows is the number of rows read, always Queued + AlreadyQueued + AlreadyDone + Invalid +
	// Duplicate + Held: after an error or a cancellation, the rows settled so far.
	Rows int
	// Queued rows are new in the run store, waiting for their turn in the window (with DryRun:
	// would be).
	Queued int
	// AlreadyQueued rows were recorded by an earlier ingestion and still wait for their outcome.
	AlreadyQueued int
	// AlreadyDone rows already have their outcome: nothing to do.
	AlreadyDone int
	// Invalid rows are unusable; recorded as invalid, never queued.
	Invalid int
	// Duplicate rows repeat an earlier line; recorded as duplicate, never queued.
	Duplicate int
	// Held rows have no outcome yet and were left unqueued by Config.Limit; they are not among
	// Rows' other counts.
	Held int
	// Resumed is true when the run already existed: this ingestion continued it.
	Resumed bool
	// Finished is true when every row of the run has its outcome (all of them invalid or
	// duplicate, say, or a resumed run that was done).
	Finished bool
	// DryRun is true when nothing was written.
	DryRun bool
}

// Ingester ingests CSV files as runs. It is safe for concurrent use.
type Ingester struct {
	cfg Config
}

// New returns an Ingester, or an error naming the Config field that is wrong.
func New(cfg Config) (*Ingester, error) {
	if !cfg.DryRun && cfg.Store == nil {
		return nil, errors.New("ingest config: Store is required unless DryRun")
	}
	if !cfg.DryRun && cfg.Enqueuer == nil {
		return nil, errors.New("ingest config: Enqueuer is required unless DryRun")
	}
	if cfg.RunID != "" && strings.ContainsAny(cfg.RunID, "{}: \t\r\n") {
		return nil, fmt.Errorf("ingest config: RunID %q: must not hold braces, colons or whitespace", cfg.RunID)
	}
	switch cfg.StytchEnv {
	case "", "test", "live":
	default:
		return nil, fmt.Errorf("ingest config: StytchEnv %q: want test, live or empty", cfg.StytchEnv)
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("ingest config: Concurrency %d: want 0 (default) or more", cfg.Concurrency)
	}
	if cfg.BatchSize < 0 {
		return nil, fmt.Errorf("ingest config: BatchSize %d: want 0 (default) or more", cfg.BatchSize)
	}
	if cfg.Options.Provider != "" {
		if _, err := jobs.ParseProvider(string(cfg.Options.Provider)); err != nil {
			return nil, fmt.Errorf("ingest config: Options.Provider: %w", err)
		}
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Ingester{cfg: cfg}, nil
}

// IngestFile ingests the file at path as one run. A missing file, a directory or anything but a
// regular file is refused with a *FileError, as is every file Check refuses; nothing is queued for
// a refused file.
func (in *Ingester) IngestFile(ctx context.Context, path string) (Result, error) {
	f, err := OpenFile(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	return in.Ingest(ctx, path, f)
}

// OpenFile opens the file at path to ingest it, refusing a missing file, a directory or anything
// but a regular file with a *FileError.
func OpenFile(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, openError(path, err)
	}
	if st.IsDir() {
		return nil, &FileError{File: path, Msg: "is a directory, not a CSV file: name the files inside it"}
	}
	if !st.Mode().IsRegular() {
		return nil, &FileError{File: path, Msg: "is not a regular file: save the CSV to a file first"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(path, err)
	}
	return f, nil
}

// openError turns an error of os.Stat or os.Open into a *FileError that says what happened.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &FileError{File: path, Msg: "no such file"}
	case errors.Is(err, fs.ErrPermission):
		return &FileError{File: path, Msg: "permission denied: cannot read it"}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &FileError{File: path, Msg: "cannot open: " + pe.Err.Error()}
	}
	return &FileError{File: path, Msg: "cannot open: " + err.Error()}
}

// Ingest ingests the file r, named name in messages (its base name is the run's File), as one
// run. It reads r twice: the check pass (CheckPass), which refuses a bad file before anything is
// written and hashes the bytes for the run id, then the record pass (Record), which records the
// rows in batches, pipelined. The run is open to the workers' window from the start, so they
// begin on a big file while it is still being read. Cancelling ctx stops it cleanly with ctx's
// error and the counts so far; ingesting the file again resumes the run.
func (in *Ingester) Ingest(ctx context.Context, name string, r io.ReadSeeker) (Result, error) {
	start := time.Now()
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("read %s: %w", name, err)
	}
	c, err := CheckPass(name, r, in.cfg.Options)
	if err != nil {
		return Result{}, err
	}
	return in.record(ctx, c, r, start)
}

// Checked is a file read by the check pass (CheckPass): what the confirmation of `run` shows and
// what the record pass (Ingester.Record) needs, so that the file is read twice, not three times.
type Checked struct {
	// Name names the file in messages.
	Name string
	// Summary is the file's provider and counts.
	Summary
	// Sum is the sha256 of the file's bytes: the run id derives from it, and the record pass
	// compares the sha256 of the bytes it reads with it.
	Sum [sha256.Size]byte
	// opts are the Options the file was read with.
	opts Options
	// size and mod are the file's size and modification time when r had a Stat method (an
	// *os.File); stat says they were read.
	size int64
	mod  time.Time
	stat bool
}

// statter is a reader that can say the size and modification time of its file (an *os.File).
type statter interface {
	Stat() (fs.FileInfo, error)
}

// CheckPass is the check pass of an ingestion: Check over the whole of r, and the sha256 of every
// byte of r. When r has a Stat method (an *os.File) the file's size and modification time are
// kept too, so that the record pass refuses a file changed since before it writes anything.
func CheckPass(name string, r io.Reader, o Options) (Checked, error) {
	c := Checked{Name: name, opts: o}
	if st, ok := r.(statter); ok {
		if fi, err := st.Stat(); err == nil {
			c.size, c.mod, c.stat = fi.Size(), fi.ModTime(), true
		}
	}
	h := sha256.New()
	sum, err := Check(name, io.TeeReader(r, h), o)
	if err != nil {
		return Checked{}, err
	}
	if _, err := io.Copy(h, r); err != nil { // whatever the check pass left unread
		return Checked{}, fmt.Errorf("read %s: %w", name, err)
	}
	c.Summary = sum
	h.Sum(c.Sum[:0])
	return c, nil
}

// Record is the record pass over r, the file c checked (CheckPass with the Ingester's Options):
// it reads r from its start and records its rows as one run, as Ingest does after its check pass.
// It refuses a file whose size or modification time changed since c (when both were read from
// an *os.File) before writing anything, and fails when the bytes it read are not those c
// hashed: the file was modified between the passes.
func (in *Ingester) Record(ctx context.Context, c Checked, r io.ReadSeeker) (Result, error) {
	return in.record(ctx, c, r, time.Now())
}

// record is Record, its Progress timed from start.
func (in *Ingester) record(ctx context.Context, c Checked, r io.ReadSeeker, start time.Time) (Result, error) {
	name := c.Name
	switch {
	case c.Provider == "":
		return Result{}, fmt.Errorf("ingest %s: not checked: record a file CheckPass read", name)
	case c.opts != in.cfg.Options:
		return Result{}, fmt.Errorf("ingest %s: checked with other options (%+v) than the ingester's (%+v)", name, c.opts, in.cfg.Options)
	}
	if st, ok := r.(statter); ok && c.stat {
		fi, err := st.Stat()
		if err != nil {
			return Result{}, fmt.Errorf("read %s: %w", name, err)
		}
		if fi.Size() != c.size || !fi.ModTime().Equal(c.mod) {
			return Result{}, fmt.Errorf("read %s: the file changed since it was checked (%d bytes modified %s, now %d bytes modified %s): nothing was recorded; run it again once it is written", name, c.size, c.mod.Format(time.RFC3339Nano), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		}
	}
	res := Result{File: filepath.Base(name), Provider: c.Provider, DryRun: in.cfg.DryRun}
	res.RunID = in.cfg.RunID
	if res.RunID == "" {
		res.RunID = string(c.Provider) + "-" + hex.EncodeToString(c.Sum[:])[:12]
	}
	if in.cfg.NewRun {
		res.RunID += "-" + in.cfg.Now().UTC().Format("20060102T150405")
	}

	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("read %s: %w", name, err)
	}
	h := sha256.New()
	rd, err := NewReader(name, io.TeeReader(r, h), in.cfg.Options)
	if err != nil {
		return Result{}, err
	}
	if rd.Provider() != c.Provider {
		return Result{}, fmt.Errorf("read %s: provider changed between passes (%s, then %s): was the file modified?", name, c.Provider, rd.Provider())
	}

	if in.cfg.Store != nil {
		run, err := in.openRun(ctx, name, res, c.Summary, rd.ExtraColumns())
		if err != nil {
			return Result{}, err
		}
		res.Resumed = run.Resumed
		res.Finished = run.Finished
	}
	p := &pass{in: in, name: name, res: res, total: c.Rows, start: start, rd: rd, r: r, h: h, want: c.Sum}
	return p.run(ctx)
}

// openedRun is what openRun found.
type openedRun struct{ Resumed, Finished bool }

// openRun creates the run, or finds it to resume; with DryRun it only looks. It refuses a run id
// that belongs to another provider's run, to a file of another size, to a cancelled run, or to
// one being pruned.
func (in *Ingester) openRun(ctx context.Context, name string, res Result, sum Summary, extra []string) (openedRun, error) {
	var run jobs.Run
	created := false
	var err error
	if in.cfg.DryRun {
		run, err = in.cfg.Store.Run(ctx, res.RunID)
		if errors.Is(err, jobs.ErrRunNotFound) {
			return openedRun{}, nil
		}
	} else {
		run, created, err = in.cfg.Store.CreateRun(ctx, jobs.Run{ID: res.RunID, Provider: sum.Provider, File: res.File, Columns: extra, RateLimit: in.cfg.RunRate})
	}
	if err != nil {
		return openedRun{}, err
	}
	if created {
		return openedRun{}, in.cfg.Store.OpenWindow(ctx, sum.Provider, res.RunID, run.CreatedAt)
	}
	switch {
	case run.Provider != sum.Provider:
		return openedRun{}, fmt.Errorf("ingest %s: run %s is a %s run, this file holds %s rows: use another --run or --new-run", name, res.RunID, run.Provider, sum.Provider)
	case run.Total >= 0 && run.Total != sum.Rows:
		return openedRun{}, fmt.Errorf("ingest %s: run %s holds %d rows (from %s), this file has %d: use another --run or --new-run", name, res.RunID, run.Total, run.File, sum.Rows)
	case run.Cancelled:
		return openedRun{}, fmt.Errorf("ingest %s: run %s was cancelled: use --new-run to queue its rows again", name, res.RunID)
	case run.Pruning:
		// Its dedupe keys are partly gone: resuming it would queue rows it already did.
		return openedRun{}, fmt.Errorf("ingest %s: run %s: %w (or use --new-run to queue its rows again)", name, res.RunID, jobs.ErrRunPruning)
	}
	if !in.cfg.DryRun {
		if err := in.cfg.Store.OpenWindow(ctx, sum.Provider, res.RunID, run.CreatedAt); err != nil {
			return openedRun{}, err
		}
	}
	return openedRun{Resumed: true, Finished: run.State == jobs.RunFinished}, nil
}

// pass is the second, writing pass over one file.
type pass struct {
	in    *Ingester
	name  string
	res   Result
	total int
	start time.Time
	rd    *Reader
	// r is the file rd reads through h, which must come to want, the check pass's sha256.
	r    io.Reader
	h    hash.Hash
	want [sha256.Size]byte

	read                                                   atomic.Int64
	queued, alreadyQueued, alreadyDone, invalid, duplicate atomic.Int64
	// handed is the rows without an outcome within Limit; held those Limit kept back; stop the
	// last line handed. All are touched by add only.
	handed, held, stop int
}

func (p *pass) progress() Progress {
	return Progress{
		File: p.res.File, Read: int(p.read.Load()), Total: p.total,
		Queued: int(p.queued.Load()), AlreadyQueued: int(p.alreadyQueued.Load()), AlreadyDone: int(p.alreadyDone.Load()),
		Invalid: int(p.invalid.Load()), Duplicate: int(p.duplicate.Load()), Elapsed: time.Since(p.start),
	}
}

// result returns the counts; complete says whether every row was read and settled.
func (p *pass) result(complete bool) Result {
	r := p.res
	r.Queued, r.AlreadyQueued, r.AlreadyDone = int(p.queued.Load()), int(p.alreadyQueued.Load()), int(p.alreadyDone.Load())
	r.Invalid, r.Duplicate = int(p.invalid.Load()), int(p.duplicate.Load())
	r.Held = p.held
	if complete {
		r.Rows = int(p.read.Load())
	} else {
		r.Rows = r.Queued + r.AlreadyQueued + r.AlreadyDone + r.Invalid + r.Duplicate + r.Held
	}
	return r
}

func (p *pass) run(ctx context.Context) (Result, error) {
	cfg := p.in.cfg
	stopProgress := p.startProgress()
	var err error
	if cfg.DryRun {
		err = p.dryRun(ctx)
	} else {
		err = p.ingest(ctx)
	}
	stopProgress()
	if err == nil && !cfg.DryRun {
		var finished bool
		finished, err = cfg.Store.SetTotal(ctx, p.res.RunID, int(p.read.Load()))
		if err == nil && finished {
			p.res.Finished = true
			err = p.queueFinished(ctx)
		}
	}
	if cfg.Progress != nil {
		cfg.Progress(p.progress())
	}
	return p.result(err == nil), err
}

// queueFinished queues the run:finished task of a run this ingestion finished (its rows were
// all invalid or duplicates): no worker will see its last outcome.
func (p *pass) queueFinished(ctx context.Context) error {
	_, err := p.in.cfg.Enqueuer.EnqueueContext(ctx, jobs.NewRunFinishedTask(p.res.RunID))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("queue run:finished of run %s: %w", p.res.RunID, err)
	}
	return nil
}

// startProgress calls Config.Progress every progressEvery until the returned func is called.
func (p *pass) startProgress() (stop func()) {
	if p.in.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.in.cfg.Progress(p.progress())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// next reads the next record and turns it into a row for the store, applying the Stytch
// environment check. At the end of the file it fails unless the bytes read are those the check
// pass hashed.
func (p *pass) next() (jobs.IngestRow, error) {
	rec, err := p.rd.Next()
	if errors.Is(err, io.EOF) {
		err = p.sameBytes()
	}
	if err != nil {
		return jobs.IngestRow{}, err
	}
	p.read.Add(1)
	return Prepare(rec, p.in.cfg.StytchEnv), nil
}

// sameBytes returns io.EOF when the bytes of the file are the ones the check pass hashed, else
// the error of a file modified between the passes.
func (p *pass) sameBytes() error {
	if _, err := io.Copy(p.h, p.r); err != nil { // whatever the reader left unread
		return fmt.Errorf("read %s: %w", p.name, err)
	}
	var got [sha256.Size]byte
	if p.h.Sum(got[:0]); got != p.want {
		kept := ""
		if !p.in.cfg.DryRun {
			kept = fmt.Sprintf(" (the rows recorded so far stay in run %s)", p.res.RunID)
		}
		return fmt.Errorf("read %s: the file changed between the passes (its bytes are not the ones checked): was it modified while it was read? Run it again once it is written%s", p.name, kept)
	}
	return io.EOF
}

// Prepare turns a record into the row ingest records: its input cells for the report, and why it
// is invalid, if it is: the reader's reason, a Stytch id of the other environment than stytchEnv
// ("" checks none), or the task contract's check of the ids (jobs.Row.Validate). plan reads files
// through it too, so that it calls the same rows invalid.
func Prepare(rec Record, stytchEnv string) jobs.IngestRow {
	if rec.Invalid == "" && stytchEnv != "" && rec.Row.Provider == jobs.Stytch {
		if err := rec.Row.CheckStytchEnv(stytchEnv); err != nil {
			rec.Invalid = err.Error()
		}
	}
	if rec.Invalid == "" {
		// Checked before the row is recorded, so a row the task contract refuses is recorded
		// invalid rather than recorded to queue and then dropped.
		if err := rec.Row.Validate(); err != nil {
			rec.Invalid = err.Error()
		}
	}
	input := make([]string, 0, 3+len(rec.Extra))
	input = append(input, rec.Row.OrgID, rec.Row.MemberID, rec.Row.UserID)
	input = append(input, rec.Extra...)
	return jobs.IngestRow{Row: rec.Row, Input: input, Invalid: rec.Invalid}
}

// ingest streams the rows: this goroutine's reader fills batches, a writer sends Concurrency of
// them per round trip, so at most about three round trips' worth of rows are in memory.
func (p *pass) ingest(ctx context.Context) error {
	store := p.in.cfg.Store
	// A canary holds every row until it knows which are its first Limit; without a limit the
	// rows an earlier canary held are released.
	hold := -1
	if p.in.cfg.Limit > 0 {
		hold = 1
	}
	if err := store.HoldWindow(ctx, p.res.RunID, hold); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	ch := make(chan [][]jobs.IngestRow, 1)
	g.Go(func() error {
		for group := range ch {
			if err := p.add(gctx, group); err != nil {
				return err
			}
		}
		return nil
	})
	g.Go(func() error {
		defer close(ch)
		return p.readRows(gctx, ch)
	})
	err := g.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("ingest %s: %w", p.name, context.Cause(ctx))
	}
	if err == nil && p.in.cfg.Limit > 0 {
		err = store.HoldWindow(ctx, p.res.RunID, max(p.stop, 1))
	}
	return err
}

// readRows reads the file into groups of Concurrency batches of BatchSize rows and hands them to ch.
func (p *pass) readRows(ctx context.Context, ch chan<- [][]jobs.IngestRow) error {
	cfg := p.in.cfg
	newGroup := func() [][]jobs.IngestRow {
		return [][]jobs.IngestRow{make([]jobs.IngestRow, 0, cfg.BatchSize)}
	}
	group := newGroup()
	send := func() error {
		if len(group) == 1 && len(group[0]) == 0 {
			return nil
		}
		select {
		case ch <- group:
		case <-ctx.Done():
			return ctx.Err()
		}
		group = newGroup()
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := p.next()
		if errors.Is(err, io.EOF) {
			return send()
		}
		if err != nil {
			return err
		}
		last := len(group) - 1
		group[last] = append(group[last], row)
		if len(group[last]) == cfg.BatchSize {
			if len(group) == cfg.Concurrency {
				if err := send(); err != nil {
					return err
				}
			} else {
				group = append(group, make([]jobs.IngestRow, 0, cfg.BatchSize))
			}
		}
	}
}

// add records one group of batches in one round trip and counts what it did.
func (p *pass) add(ctx context.Context, group [][]jobs.IngestRow) error {
	var bad error
	err := p.in.cfg.Store.AddRowBatches(ctx, p.res.RunID, p.total, group, func(bi int, acts []jobs.AddAction) {
		for i, a := range acts {
			if a == jobs.AddQueue || a == jobs.AddAlreadyQueued {
				if lim := p.in.cfg.Limit; lim > 0 && p.handed >= lim {
					p.held++
					continue
				}
				p.handed++
				p.stop = group[bi][i].Row.Line
			}
			switch a {
			case jobs.AddQueue:
				p.queued.Add(1)
			case jobs.AddAlreadyQueued:
				p.alreadyQueued.Add(1)
			case jobs.AddDone:
				p.alreadyDone.Add(1)
			case jobs.AddDuplicate:
				p.duplicate.Add(1)
			case jobs.AddInvalid:
				p.invalid.Add(1)
			default:
				bad = fmt.Errorf("record rows of run %s: unknown action %d for line %d", p.res.RunID, a, group[bi][i].Row.Line)
			}
		}
	})
	if err != nil {
		return err
	}
	return bad
}

// dryRun reads every row and counts what would happen, writing nothing. Duplicates are found in
// memory, by row key.
func (p *pass) dryRun(ctx context.Context) error {
	seen := make(map[[10]byte]struct{})
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ingest %s: %w", p.name, context.Cause(ctx))
		}
		row, err := p.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if row.Invalid != "" {
			p.invalid.Add(1)
			continue
		}
		var k [10]byte
		_, _ = hex.Decode(k[:], []byte(row.Row.Key()))
		if _, ok := seen[k]; ok {
			p.duplicate.Add(1)
			continue
		}
		seen[k] = struct{}{}
		p.queued.Add(1)
	}
}
