//go:build !linux

// This file gives the inbox its primitives on systems without Linux's renameat2.

package schedule

import (
	"io/fs"
	"time"
)

// renameNoReplace renames oldpath to newpath unless newpath exists (fs.ErrExist). The look and
// the rename are two steps: two files of one name dropped at the same instant may race.
func renameNoReplace(oldpath, newpath string) error { return renameIfAbsent(oldpath, newpath) }

// lastChange is a file's modification time.
func lastChange(info fs.FileInfo) time.Time { return info.ModTime() }
