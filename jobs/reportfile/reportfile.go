// Package reportfile names the report files of a run on disk so that the retry loop stays a
// fixed point: the report and failed-rows files of users.csv are users.csv.report.csv and
// users.csv.failed.csv, and feeding users.csv.failed.csv back in gives names of the same shape
// (numbered, never longer), and no existing file is overwritten unless asked.
package reportfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// added matches what a round of the retry loop adds to a file name: .report.csv, .failed.csv,
// or their numbered forms (.report.2.csv).
var added = regexp.MustCompile(`\.(report|failed)(\.\d+)?\.csv$`)

// Stem returns an input file's base name without what earlier rounds added:
// users.csv.failed.csv, users.csv.failed.3.csv and users.csv.report.csv all give users.csv.
func Stem(input string) string {
	s := filepath.Base(input)
	for {
		t := added.ReplaceAllString(s, "")
		if t == s || t == "" {
			return s
		}
		s = t
	}
}

// For returns where the report and the failed rows of input go in dir ("" for the working
// directory): DIR/STEM.report.csv and DIR/STEM.failed.csv.
func For(input, dir string) (report, failed string) {
	s := Stem(input)
	return filepath.Join(dir, s+".report.csv"), filepath.Join(dir, s+".failed.csv")
}

// FailedBeside returns the failed-rows file that goes with a report file: x.report.csv →
// x.failed.csv, x.csv → x.failed.csv, x → x.failed.csv.
func FailedBeside(report string) string {
	switch {
	case strings.HasSuffix(report, ".report.csv"):
		return strings.TrimSuffix(report, ".report.csv") + ".failed.csv"
	case strings.HasSuffix(report, ".csv"):
		return strings.TrimSuffix(report, ".csv") + ".failed.csv"
	}
	return report + ".failed.csv"
}

// Numbered returns path with n before its extension: x.report.csv, 2 → x.report.2.csv; n 0 is
// path itself.
func Numbered(path string, n int) string {
	if n == 0 {
		return path
	}
	ext := filepath.Ext(path)
	if ext == "" || strings.Contains(ext, string(filepath.Separator)) {
		return path + "." + strconv.Itoa(n)
	}
	return strings.TrimSuffix(path, ext) + "." + strconv.Itoa(n) + ext
}

// maxNumber bounds the search for a free number.
const maxNumber = 10000

// Free returns the smallest n ≥ 0 for which no Numbered(p, n) of paths exists, so that a set
// of files written together (a report and its failed rows) share one number. With force it
// returns 0: the caller overwrites.
func Free(force bool, paths ...string) (int, error) {
	if force {
		return 0, nil
	}
	for n := 0; n < maxNumber; n++ {
		taken := false
		for _, p := range paths {
			if _, err := os.Lstat(Numbered(p, n)); err == nil {
				taken = true
				break
			} else if !errors.Is(err, fs.ErrNotExist) {
				return 0, fmt.Errorf("look at %s: %w", Numbered(p, n), err)
			}
		}
		if !taken {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: %d numbered files exist already: remove old reports, or overwrite with --force", paths[0], maxNumber)
}

// IsDir reports whether a --report or -o argument names a directory: one that exists, or a
// path ending in a separator (created when the report is written).
func IsDir(path string) bool {
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
