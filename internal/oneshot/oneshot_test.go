// This file tests oneshot.go: the checks Files makes before it calls anything, and how often
// `run` reads its files.

package oneshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"reactivator/ingest"
	"reactivator/internal/exitcode"
	"reactivator/internal/progress"
	"reactivator/internal/redisconn"
	"reactivator/internal/redistest"
	"reactivator/internal/runwait"
	"reactivator/worker"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func TestFilesRefusesAReportFileForSeveralInputsAsAUsageError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(report, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := FilesRequest{Session: Session{Env: func(string) string { return "" }, Out: io.Discard, Err: io.Discard,
		Embed: redisconn.Embed{InProcess: true}}, Files: []string{"a.csv", "b.csv"}, Report: report}
	err := Files(context.Background(), r)
	var ue *exitcode.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("Files(two files, --report %s, a file) = %v, want an *exitcode.UsageError", report, err)
	}
}

// countingFile is an input file that counts the bytes read from it.
type countingFile struct {
	f    *os.File
	read *atomic.Int64
}

func (c countingFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c countingFile) Seek(off int64, whence int) (int64, error) { return c.f.Seek(off, whence) }

func (c countingFile) Stat() (fs.FileInfo, error) { return c.f.Stat() }

// TestFilesReadsEachFileTwice runs a file to its report and counts the bytes read from it: the
// check pass, whose counts the confirmation shows and whose hash names the run, and the record
// pass; not a third pass to check the file again before recording it.
func TestFilesReadsEachFileTwice(t *testing.T) {
	t.Parallel()
	d, err := StartDemo(DemoOptions{Users: 20, Seed: 7}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	file := d.Files[0]
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ingest.Check(file, fh, ingest.Options{})
	_ = fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	srv := redistest.Shared(t)
	env := map[string]string{"ZITADEL_URL": d.ZitadelURL, "ZITADEL_TOKEN": d.Zitadel.Token, "REDIS_URL": srv.URL(srv.NextDB())}
	var read atomic.Int64
	var out bytes.Buffer
	r := FilesRequest{
		Session: Session{Env: func(k string) string { return env[k] }, Yes: true, Out: &out, Err: io.Discard,
			NewBar: func(label string, total int) *progress.Bar { return progress.New(io.Discard, false, label, total) },
			Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
			Worker: worker.Config{Concurrency: 4, MaxAttempts: 3, ShutdownTimeout: 5 * time.Second}},
		Files: []string{file}, Report: t.TempDir() + "/", JSON: true,
		reads: func(f *os.File) io.ReadSeeker { return countingFile{f: f, read: &read} },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Files(ctx, r); err != nil && !errors.Is(err, runwait.ErrNotAllReactivated) {
		t.Fatalf("Files(%s) = %v", file, err)
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Runs) != 1 || res.Runs[0].Rows != sum.Rows {
		t.Fatalf("Files(%s) printed %s (%v); want one run of its %d rows", file, out.Bytes(), err, sum.Rows)
	}
	if got := read.Load(); got != 2*st.Size() {
		t.Errorf("Files(%s) read %d bytes of the file (%.2f times its %d bytes); want 2 passes, %d bytes", file, got, float64(got)/float64(st.Size()), st.Size(), 2*st.Size())
	}
}
