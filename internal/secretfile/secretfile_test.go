package secretfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestValueFollowsTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret")
	write(t, path, "old-secret\n")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	f.now = func() time.Time { return clock }
	if got := f.Value(); got != "old-secret" {
		t.Fatalf("Value() = %q, want old-secret (trimmed)", got)
	}
	write(t, path, "new-secret-longer\n")
	if got := f.Value(); got != "old-secret" {
		t.Errorf("Value() within a second of the last check = %q, want the old one (checked at most once a second)", got)
	}
	clock = clock.Add(CheckEvery)
	if got := f.Value(); got != "new-secret-longer" {
		t.Errorf("Value() a second later = %q, want new-secret-longer", got)
	}
	// A rotation half done (empty file) or a missing file keeps the last value.
	write(t, path, "")
	clock = clock.Add(CheckEvery)
	if got := f.Value(); got != "new-secret-longer" {
		t.Errorf("Value() of an empty file = %q, want the last value", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(CheckEvery)
	if got := f.Value(); got != "new-secret-longer" {
		t.Errorf("Value() of a missing file = %q, want the last value", got)
	}
	if got := f.Seen(); !slices.Equal(got, []string{"old-secret", "new-secret-longer"}) {
		t.Errorf("Seen() = %q, want both values", got)
	}
}

func TestReloadReadsNow(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret")
	write(t, path, "secret-aaaa")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Reload() {
		t.Errorf("Reload() of an unchanged file = true, want false")
	}
	// Same size, written within the same second: only a read sees it.
	write(t, path, "secret-bbbb")
	if !f.Reload() || f.Value() != "secret-bbbb" {
		t.Errorf("Reload() after a same-size rewrite = false or Value() = %q, want true and secret-bbbb", f.Value())
	}
}

func TestOpenErrorsNameThePathNotTheContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	write(t, empty, " \n")
	for _, path := range []string{filepath.Join(dir, "missing"), empty} {
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "%!") {
			t.Errorf("Open(%s) = %v, want an error naming the path", path, err)
		}
	}
}
