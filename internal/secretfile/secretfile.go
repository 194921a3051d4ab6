// Package secretfile reads a secret from a file and reads it again when the file changes, so a
// rotated secret (a Kubernetes or Docker secret, a file an operator rewrote) needs no restart.
//
// A File is responsible for the current value of one secret file.
package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// CheckEvery is how often Value looks at the file's size and modification time at most.
const CheckEvery = time.Second

// File is one secret file. It is safe for concurrent use.
type File struct {
	path string
	// now is the clock of the checks; tests may replace it.
	now func() time.Time

	mu      sync.Mutex
	value   string
	mod     time.Time
	size    int64
	checked time.Time
	seen    []string
}

// Open reads the secret in path: the file's content, surrounding whitespace trimmed. It fails
// when the file cannot be read or holds nothing. The error names path, never the content.
func Open(path string) (*File, error) {
	f := &File{path: path, now: time.Now}
	v, fi, err := f.read()
	if err != nil {
		return nil, err
	}
	f.set(v, fi)
	f.checked = f.now()
	return f, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Value returns the secret. At most once per CheckEvery it compares the file's size and
// modification time with those it read, and reads it again when they changed. A file that
// cannot be read, or is empty (a rotation half done), leaves the last value in place.
func (f *File) Value() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := f.now(); now.Sub(f.checked) >= CheckEvery {
		f.checked = now
		if fi, err := os.Stat(f.path); err == nil && (fi.Size() != f.size || !fi.ModTime().Equal(f.mod)) {
			if v, fi, err := f.read(); err == nil {
				f.set(v, fi)
			}
		}
	}
	return f.value
}

// Reload reads the file now, whatever the time of the last check, and reports whether the
// secret changed. Call it when the provider refused the current secret, before counting the
// refusal: an operator may have just rotated it.
func (f *File) Reload() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = f.now()
	v, fi, err := f.read()
	if err != nil || v == f.value {
		return false
	}
	f.set(v, fi)
	return true
}

// Seen returns every value the file has held, for scrubbing messages.
func (f *File) Seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

// set keeps v as the current value; f.mu must be held (or f not yet shared).
func (f *File) set(v string, fi os.FileInfo) {
	f.value, f.size, f.mod = v, fi.Size(), fi.ModTime()
	if !slices.Contains(f.seen, v) {
		f.seen = append(f.seen, v)
	}
}

func (f *File) read() (string, os.FileInfo, error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		return "", nil, fmt.Errorf("secret file %s: %w", f.path, cause(err))
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return "", nil, fmt.Errorf("secret file %s: %w", f.path, cause(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", nil, fmt.Errorf("secret file %s is empty", f.path)
	}
	return v, fi, nil
}

// cause is a file error without its path, which the message names already.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
