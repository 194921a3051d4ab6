package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
)

// The retry loop is a fixed point: the failed rows of a run, fed back in, give a report of the
// same columns and a failed-rows file of the same rows; file names stay short and numbered, and
// no earlier report is overwritten.
func TestRetryLoopIsAFixedPoint(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	for _, i := range []int{1, 5} {
		w.stytch.AddMember(wOrgID, stytchMember(i), fakeidp.StytchDeleted, true)
	}
	in := w.file("members.csv", "organization_id,member_id,email,message\n"+
		wOrgID+","+stytchMember(1)+",a@example.com,first\n"+
		wOrgID+","+stytchMember(2)+",b@example.com,not there\n"+ // not found
		"=HYPERLINK(1),"+stytchMember(3)+",c@example.com,formula\n"+ // invalid id
		wOrgID+",member bad,d@example.com,too many,cells\n"+ // malformed (5 fields), and its id is invalid
		wOrgID+","+stytchMember(5)+",e@example.com,last\n")
	dir := filepath.Join(w.dir, "reports") + "/" // does not exist yet

	res := w.run("run", "--report", dir, in)
	if res.code != exitSomeFailed {
		t.Fatalf("round 1: run = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
	report1, failed1 := filepath.Join(dir, "members.csv.report.csv"), filepath.Join(dir, "members.csv.failed.csv")
	h1, r1 := readReport(t, report1)
	fh1, f1 := readReport(t, failed1)
	if !slices.Equal(h1, fh1) || !slices.Contains(h1, "input_message") {
		t.Fatalf("round 1: report header %q, failed-rows header %q; want equal, with input_message", h1, fh1)
	}
	if len(r1) != 5 || len(f1) != 3 {
		t.Fatalf("round 1: %d report rows, %d failed rows; want 5 and 3", len(r1), len(f1))
	}
	if msg := f1[5]["message"]; !strings.Contains(msg, "wrong number of fields") || !strings.Contains(msg, "too many,cells") {
		t.Errorf("round 1: the malformed row's message = %q, want its cells as read (too many,cells)", msg)
	}
	before, err := os.ReadFile(report1)
	if err != nil {
		t.Fatal(err)
	}

	res = w.run("run", "--report", dir, failed1)
	if res.code != exitSomeFailed {
		t.Fatalf("round 2: run = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
	if !strings.Contains(res.stderr, "exists: kept it") {
		t.Errorf("round 2 does not say it kept the earlier report:\n%s", res)
	}
	if after, err := os.ReadFile(report1); err != nil || string(after) != string(before) {
		t.Errorf("round 2 changed the report of round 1 (%v)", err)
	}
	report2, failed2 := filepath.Join(dir, "members.csv.report.1.csv"), filepath.Join(dir, "members.csv.failed.1.csv")
	h2, _ := readReport(t, report2)
	fh2, f2 := readReport(t, failed2)
	if !slices.Equal(h2, h1) || !slices.Equal(fh2, fh1) {
		t.Errorf("round 2 headers = %q and %q, want round 1's %q", h2, fh2, h1)
	}
	if got, want := rowSet(f2), rowSet(f1); !slices.Equal(got, want) {
		t.Errorf("round 2 failed rows = %q, want round 1's %q", got, want)
	}

	// Round 3 from round 2's failed rows: the names stay numbered, not longer.
	res = w.run("run", "--report", dir, failed2)
	if res.code != exitSomeFailed {
		t.Fatalf("round 3: run = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
	fh3, f3 := readReport(t, filepath.Join(dir, "members.csv.failed.2.csv"))
	if !slices.Equal(fh3, fh1) || !slices.Equal(rowSet(f3), rowSet(f1)) {
		t.Errorf("round 3 failed rows = %q %q, want round 1's %q %q", fh3, rowSet(f3), fh1, rowSet(f1))
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Count(e.Name(), ".csv") > 2 {
			t.Errorf("file name %s grew a round at a time", e.Name())
		}
	}
}

// rowSet is a report's rows without what changes from round to round (line, timings, request
// ids): ids, outcome, reason and the input's columns, sorted.
func rowSet(rows map[int]map[string]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join([]string{r["provider"], r["organization_id"], r["member_id"], r["user_id"],
			r["outcome"], r["reason"], r["email"], r["input_message"]}, "|"))
	}
	slices.Sort(out)
	return out
}
