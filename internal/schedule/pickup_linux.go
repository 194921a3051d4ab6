// This file gives the inbox its Linux primitives: a rename that never replaces a file, and the
// inode change time, which a rename sets.

package schedule

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames oldpath to newpath, failing with fs.ErrExist when newpath exists and
// fs.ErrNotExist when oldpath is gone, atomically. On a file system without RENAME_NOREPLACE it
// falls back to a look, then a rename.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return renameIfAbsent(oldpath, newpath)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

// lastChange is the later of a file's modification and inode change times: a claim by rename
// counts as a change even where the worker may not set the file's times.
func lastChange(info fs.FileInfo) time.Time {
	t := info.ModTime()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if c := time.Unix(st.Ctim.Sec, st.Ctim.Nsec); c.After(t) {
			t = c
		}
	}
	return t
}
