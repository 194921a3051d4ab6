// This file writes a plan: the CSV of <file>.plan.csv (the report's columns, then state, then the
// input's extra columns), the counts per predicted outcome, and the JSON summary.

package plan

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"time"

	"reactivator/internal/atomicfile"
	"reactivator/jobs"
	"reactivator/jobs/report"
)

// Columns are the plan's own columns: the report's (jobs.ReportColumns), then state. The
// input's extra columns follow.
var Columns = append(slices.Clone(jobs.ReportColumns), "state")

// Counts returns the rows per predicted outcome.
func (r *Result) Counts() map[string]int {
	out := map[string]int{}
	for _, row := range r.Rows {
		out[row.Outcome]++
	}
	return out
}

// AllReactivated reports whether every row would be reactivated (or was already): plan's exit 0.
func (r *Result) AllReactivated() bool {
	for _, row := range r.Rows {
		if row.Outcome != string(jobs.Reactivated) {
			return false
		}
	}
	return true
}

// WriteCSV writes the plan as CSV. Cells a spreadsheet would run as a formula are neutralised,
// as in reports.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := slices.Clone(Columns)
	for _, c := range r.Columns {
		header = append(header, report.NeutraliseCell(c))
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, 0, len(header))
	for _, row := range r.Rows {
		in := make([]string, 3+len(r.Columns))
		copy(in, row.Input)
		var status, attempts int
		var requestID, finished string
		if rr := row.Recorded; rr != nil {
			status, attempts, requestID = rr.HTTPStatus, rr.Attempts, rr.RequestID
			if !rr.FinishedAt.IsZero() {
				finished = rr.FinishedAt.UTC().Format(time.RFC3339)
			}
		}
		rec = append(rec[:0], strconv.Itoa(row.Line), string(row.Provider), in[0], in[1], in[2],
			row.Outcome, row.Reason, itoaNonZero(status), requestID, itoaNonZero(attempts), finished, row.Message, row.State)
		rec = append(rec, in[3:]...)
		for i := range rec {
			if i > 0 {
				rec[i] = report.NeutraliseCell(rec[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteFile writes the CSV to path atomically: a failed write leaves no file behind.
func (r *Result) WriteFile(path string) error {
	return atomicfile.Write(path, r.WriteCSV)
}

func itoaNonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Summary is what `plan --json` prints for one file.
type Summary struct {
	// File is the input file; Plan the CSV written.
	File string `json:"file"`
	Plan string `json:"plan"`
	// Provider and RunID are the file's provider and the run a `run` of it would use; Resumed
	// is true when that run exists (rows it finished keep their outcome).
	Provider jobs.Provider `json:"provider"`
	RunID    string        `json:"run_id"`
	Resumed  bool          `json:"resumed"`
	// Rows is the number of rows; Counts the rows per predicted outcome (a jobs.Outcome, or
	// "unknown" for an account the service user may not read).
	Rows   int            `json:"rows"`
	Counts map[string]int `json:"counts"`
	// AllReactivated is true when every row would be reactivated.
	AllReactivated bool `json:"all_reactivated"`
	// Calls is the number of provider calls the plan made, all of them reads.
	Calls int      `json:"calls"`
	Notes []string `json:"notes,omitempty"`
}

// Summary returns the plan's summary, written to planPath.
func (r *Result) Summary(planPath string) Summary {
	return Summary{File: r.File, Plan: planPath, Provider: r.Provider, RunID: r.RunID, Resumed: r.Resumed,
		Rows: len(r.Rows), Counts: r.Counts(), AllReactivated: r.AllReactivated(), Calls: r.Calls, Notes: r.Notes}
}
