// Package atomicfile writes a file whole or not at all, with one policy for every file the
// program writes that holds account ids (reports, failed rows): a reader never sees half a file,
// an old file stays whole when writing fails, and only the owner can read it.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The one policy.
const (
	// DirPerm is the mode of the directories callers create for such files (MkdirAll).
	DirPerm = 0o750
	// FilePerm is the mode of every file Write writes: reports hold account ids and whatever
	// else the input had.
	FilePerm = 0o600
)

// Write writes path through write: into a temporary file beside it, synced to disk, given
// FilePerm, then renamed over path. When write or any step fails, path is left as it was and the
// temporary file is removed. Its directory must exist (MkdirAll creates it). Errors name path.
func Write(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	for _, step := range []func() error{func() error { return f.Chmod(FilePerm) }, f.Sync, f.Close} {
		if err := step(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// MkdirAll creates path's directory and its parents with DirPerm, for a Write that may be the
// first file there.
func MkdirAll(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), DirPerm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
