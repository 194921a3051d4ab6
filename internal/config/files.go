// This file is how input files are read and their runs named: the flags of ingest, run and plan,
// with their checks.

package config

import (
	"reactivator/ingest"
	"reactivator/internal/exitcode"
)

// Files say how to read input files and name their runs. Its fields are the flags of the same
// names.
type Files struct {
	// Provider is --provider, the files' provider ("" reads it from each file's header);
	// Delimiter is --delimiter ("" detects it).
	Provider, Delimiter string
	// RunID is --run, the id of the one file's run ("" derives it from the file).
	RunID string
	// NewRun is --new-run: a fresh run even if the file was queued before.
	NewRun bool
}

// Options are the reader's options for n files (FileOptions). Every error it returns is a bad
// command line (an *exitcode.UsageError): a bad --provider or --delimiter, --run with more than
// one file.
func (f Files) Options(n int) (ingest.Options, error) {
	o, err := FileOptions(f.Provider, f.Delimiter)
	switch {
	case err != nil:
		return o, exitcode.AsUsage(err)
	case f.RunID != "" && n > 1:
		return o, exitcode.Usagef("--run names one run: give one file, or leave --run out (each file gets its own run)")
	}
	return o, nil
}
