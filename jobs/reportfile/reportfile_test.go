package reportfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStemAndFor(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, stem, report, failed string }{
		{"users.csv", "users.csv", "users.csv.report.csv", "users.csv.failed.csv"},
		{"in/users.csv.failed.csv", "users.csv", "users.csv.report.csv", "users.csv.failed.csv"},
		{"users.csv.failed.3.csv", "users.csv", "users.csv.report.csv", "users.csv.failed.csv"},
		{"users.csv.report.csv", "users.csv", "users.csv.report.csv", "users.csv.failed.csv"},
		{"users.csv.failed.csv.failed.csv", "users.csv", "users.csv.report.csv", "users.csv.failed.csv"},
		{"failed.csv", "failed.csv", "failed.csv.report.csv", "failed.csv.failed.csv"},
		{".failed.csv", ".failed.csv", ".failed.csv.report.csv", ".failed.csv.failed.csv"},
	}
	for _, tt := range tests {
		if got := Stem(tt.in); got != tt.stem {
			t.Errorf("Stem(%q) = %q, want %q", tt.in, got, tt.stem)
		}
		r, f := For(tt.in, "")
		if r != tt.report || f != tt.failed {
			t.Errorf("For(%q) = %q, %q; want %q, %q", tt.in, r, f, tt.report, tt.failed)
		}
	}
}

func TestFailedBeside(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"users.csv.report.csv": "users.csv.failed.csv",
		"out/r.csv":            "out/r.failed.csv",
		"report.txt":           "report.txt.failed.csv",
	} {
		if got := FailedBeside(in); got != want {
			t.Errorf("FailedBeside(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumberedAndFree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	report, failed := For("users.csv", dir)
	if got := Numbered(report, 2); got != filepath.Join(dir, "users.csv.report.2.csv") {
		t.Errorf("Numbered(report, 2) = %q", got)
	}
	if got := Numbered("x", 1); got != "x.1" {
		t.Errorf("Numbered(x, 1) = %q, want x.1", got)
	}
	free := func(force bool) int {
		t.Helper()
		n, err := Free(force, report, failed)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := free(false); n != 0 {
		t.Errorf("Free() in an empty dir = %d, want 0", n)
	}
	// The failed rows of an earlier round are there (they are this round's input): both move on.
	if err := os.WriteFile(failed, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := free(false); n != 1 {
		t.Errorf("Free() with %s present = %d, want 1", failed, n)
	}
	if err := os.WriteFile(Numbered(report, 1), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := free(false); n != 2 {
		t.Errorf("Free() with .1 taken = %d, want 2", n)
	}
	if n := free(true); n != 0 {
		t.Errorf("Free(force) = %d, want 0", n)
	}
}

func TestIsDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for path, want := range map[string]bool{dir: true, filepath.Join(dir, "new") + "/": true, filepath.Join(dir, "x.csv"): false} {
		if got := IsDir(path); got != want {
			t.Errorf("IsDir(%q) = %v, want %v", path, got, want)
		}
	}
}
