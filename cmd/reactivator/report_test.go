package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/jobs"
)

// finishedRun ingests a Stytch file of 3 rows (an extra email column) and records its outcomes:
// reactivated, not_found, reactivated.
func (w *cliWorld) finishedRun() string {
	w.t.Helper()
	id := w.ingested("members.csv", 3)
	w.record(id, jobs.Reactivated, jobs.NotFound, jobs.Reactivated)
	return id
}

func TestReportCSV(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.finishedRun()
	tests := []struct {
		name     string
		args     []string
		wantRows int
	}{
		{"all rows", nil, 3},
		{"failed only", []string{"--failed-only"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(append([]string{"report", id}, tc.args...)...)
			if r.code != exitOK {
				t.Fatalf("report = %s", r)
			}
			recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			if err != nil {
				t.Fatalf("report output is not CSV: %v\n%s", err, r.stdout)
			}
			wantHeader := strings.Join(append(append([]string{}, jobs.ReportColumns...), "email"), ",")
			if got := strings.Join(recs[0], ","); got != wantHeader {
				t.Errorf("report header = %s, want %s", got, wantHeader)
			}
			if got := len(recs) - 1; got != tc.wantRows {
				t.Errorf("report rows = %d, want %d:\n%s", got, tc.wantRows, r.stdout)
			}
		})
	}
	// The failed-only report is valid input for ingest.
	r := w.run("report", id, "--failed-only")
	failed := w.file("failed.csv", r.stdout)
	if r := w.run("ingest", "--dry-run", failed); r.code != exitOK || !strings.Contains(r.stdout, "would queue           1") {
		t.Errorf("ingest --dry-run of the failed-only report = %s\nwant exit 0 and 1 row to queue", r)
	}
}

func TestReportJSONAndMarkdown(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.finishedRun()

	r := w.run("report", id, "--format", "json")
	if r.code != exitOK {
		t.Fatalf("report --format json = %s", r)
	}
	var rep struct {
		Summary struct {
			RunID    string         `json:"run_id"`
			Failures int            `json:"failures"`
			Counts   map[string]int `json:"counts"`
			State    string         `json:"state"`
			Rows     int            `json:"rows"`
		} `json:"summary"`
		Rows []struct {
			Line    int    `json:"line"`
			Outcome string `json:"outcome"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report --format json is not JSON: %v\n%s", err, r.stdout)
	}
	if rep.Summary.RunID != id || rep.Summary.Failures != 1 || rep.Summary.Counts["reactivated"] != 2 || len(rep.Rows) != 3 || rep.Rows[1].Outcome != "not_found" {
		t.Errorf("report --format json = %+v, want run %s, 1 failure, 2 reactivated, 3 rows, line 3 not_found", rep, id)
	}

	r = w.run("report", id, "--format", "md")
	if r.code != exitOK {
		t.Fatalf("report --format md = %s", r)
	}
	contains(t, "report --format md", r.stdout, id, "not_found", jobs.NotFound.Advice())
}

func TestReportToFile(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.finishedRun()
	out := filepath.Join(w.dir, "report.json")
	r := w.run("report", id, "-o", out)
	if r.code != exitOK || r.stdout != "" {
		t.Fatalf("report -o = %s\nwant exit 0 and nothing on stdout", r)
	}
	contains(t, "report -o stderr", r.stderr, "wrote "+out+": 3 rows of run "+id+" (finished)")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Errorf("report -o report.json wrote no JSON (format from the extension):\n%s", b)
	}
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("report left a temporary file behind: %s", e.Name())
		}
	}

	// An existing file is kept: the next report takes the next number, and says so ...
	if err := os.WriteFile(out, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	numbered := filepath.Join(w.dir, "report.1.json")
	r = w.run("report", id, "-o", out)
	contains(t, "report -o over an existing file", r.stderr, "wrote "+numbered)
	if b, _ := os.ReadFile(out); r.code != exitOK || string(b) != "mine" {
		t.Errorf("report -o over an existing file = %s, left %q; want exit 0 and the file kept", r, b)
	}
	if b, err := os.ReadFile(numbered); err != nil || !json.Valid(b) {
		t.Errorf("numbered report = %q, %v; want the JSON report", b, err)
	}
	// ... unless --force, which overwrites it.
	r = w.run("report", id, "-o", out, "--force")
	if b, _ := os.ReadFile(out); r.code != exitOK || !json.Valid(b) {
		t.Errorf("report -o --force = %s, left %q; want exit 0 and the report in place", r, b)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "report.2.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("report -o --force made another numbered file: %v", err)
	}
}

func TestReportOfUnfinishedRun(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.ingested("members.csv", 2)
	w.record(id, jobs.Reactivated)
	r := w.run("report", id, "-o", filepath.Join(w.dir, "partial.csv"))
	if r.code != exitOK {
		t.Fatalf("report of an unfinished run = %s", r)
	}
	contains(t, "report stderr", r.stderr, "not finished: 1 rows are still pending")
	r = w.run("report", id)
	contains(t, "report stdout", r.stdout, ",pending,")
}

func TestReportErrors(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	id := w.finishedRun()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"unknown run", []string{"report", "stytch-000000000000"}, exitError, "`reactivator status` lists the runs"},
		{"unknown format", []string{"report", id, "--format", "xlsx"}, exitUsage, "--format"},
		{"no run", []string{"report"}, exitUsage, "accepts 1 arg"},
		{"unwritable output", []string{"report", id, "-o", filepath.Join(w.dir, "no", "such", "dir", "r.csv")}, exitError, "write "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(tc.args...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v = %s\nwant exit %d and %q", tc.args, r, tc.wantCode, tc.want)
			}
		})
	}
}
