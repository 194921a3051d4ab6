// This file keeps cmd/reactivator small: commands are a shell (options, Validate(), one library
// call, print), so the use cases live in the library packages named for what they give.

package housecheck

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxCmdLines is the most lines cmd/reactivator's production .go files may hold together, as
//
//	find cmd/reactivator -name '*.go' ! -name '*_test.go' | xargs cat | wc -l
//
// counts them.
const maxCmdLines = 1500

// cmdLines counts the lines of the .go files under dir, its tests left out, as wc -l does: one
// per newline.
func cmdLines(t *testing.T, dir string) (lines, files int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), ".go") || strings.HasSuffix(d.Name(), "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines += bytes.Count(b, []byte("\n"))
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines, files
}

// TestCmdIsSmall fails when cmd/reactivator's production files grow past maxCmdLines lines: what
// a command computes belongs in the library that owns it, not in the shell.
func TestCmdIsSmall(t *testing.T) {
	t.Parallel()
	lines, files := cmdLines(t, filepath.Join(repoRoot(t), "cmd", "reactivator"))
	if files < 10 {
		t.Fatalf("found %d production files in cmd/reactivator, want every command's file", files)
	}
	if lines > maxCmdLines {
		t.Errorf("cmd/reactivator has %d production lines in %d files, want at most %d: move what a command computes into the library that owns it",
			lines, files, maxCmdLines)
	}
	t.Logf("cmd/reactivator: %d production lines in %d files (at most %d)", lines, files, maxCmdLines)
}
