package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "new", "r.csv")
	if err := Write(path, func(io.Writer) error { return nil }); err == nil {
		t.Fatalf("Write into a missing directory = nil, want an error")
	}
	if err := MkdirAll(path); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "a,b\n"); return err }); err != nil {
		t.Fatalf("Write = %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "a,b\n" {
		t.Fatalf("ReadFile = %q, %v, want the written bytes", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != FilePerm {
		t.Errorf("mode = %v, want %v", st.Mode().Perm(), os.FileMode(FilePerm))
	}

	// A failed write leaves the old file whole and no temporary file behind.
	boom := errors.New("boom")
	if err := Write(path, func(w io.Writer) error { _, _ = io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("Write(failing) = %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "a,b\n" {
		t.Errorf("after a failed write the file = %q, want the old content", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1 (no temporary file)", len(ents))
	}
}
