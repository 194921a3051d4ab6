// Package chaos proves that reactivator loses nothing and doubles nothing under failure: its
// scenarios (in chaos_test.go, run by `make chaos`) drive real worker processes against a real
// redis-server and the fake providers while workers are killed, Redis restarts, providers fail,
// credentials are revoked and runs are cancelled; then Audit checks every input row.
package chaos

// This file is the audit: what a finished run must satisfy, row by row, against the store, the
// workers' logs, the report and the fake provider's call counts.

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"reactivator/jobs"
)

// Input is what Audit looks at for one run.
type Input struct {
	Store *jobs.Store
	RunID string
	// Rows is the number of input rows: lines 2 to Rows+1 of the file.
	Rows int
	// Calls returns how many reactivate calls reached the row's account at the provider.
	Calls func(jobs.ReportRow) int
	// Applied reports whether the provider shows the row's account reactivated (every account
	// of a scenario starts deactivated).
	Applied func(jobs.ReportRow) bool
	// Records counts, per line, how often a worker logged recording the row's outcome (see
	// CountRecords); nil skips that check.
	Records map[int]int
	// ReportLines counts, per line, the rows of the run's CSV report (see CountReportLines); nil
	// skips that check.
	ReportLines map[int]int
}

// Audit is what the audit of one run found. A run passes when Problems is empty.
type Audit struct {
	Rows int
	// Outcomes is the per-row tally of the store's outcomes.
	Outcomes map[jobs.Outcome]int
	// Lost are lines without an outcome in the store or without a row in the report.
	Lost []int
	// Doubled are lines whose outcome was recorded more than once: logged twice by workers,
	// twice in the report, or counted twice by the run's counters (the excess is added as line 0).
	Doubled []int
	// Calls is the number of calls that reached the run's accounts.
	Calls int
	// ExtraCalls is the number of calls that reached an account beyond its first.
	ExtraCalls int
	// Ambiguous is the number of rows reactivated with reason confirmed_on_retry.
	Ambiguous int
	// Problems lists every broken rule, one sentence each.
	Problems []string
}

// OK reports whether the audit found nothing wrong.
func (a Audit) OK() bool { return len(a.Problems) == 0 }

func (a *Audit) problem(format string, args ...any) {
	a.Problems = append(a.Problems, fmt.Sprintf(format, args...))
}

// mayHaveReached is what a cancelled row's message says when an earlier attempt may have
// reached the provider (jobs.Store.Begin and Cancel).
const mayHaveReached = "may have reached the provider"

// Run audits a finished run:
//
//   - every input line has exactly one outcome in the store, one row in the report, and was
//     recorded at most once by the workers;
//   - the run's counters (done, per outcome) equal the per-row tally, and the run is finished;
//   - a reactivated row's account was called at least once and is reactivated at the provider;
//     no row was called more often than its attempts;
//   - a row not reactivated left its account untouched, unless it says an attempt may have
//     reached the provider (a cancelled row);
//   - a cancelled row was never called, unless its message says an attempt may have reached
//     the provider.
func Run(ctx context.Context, in Input) (Audit, error) {
	a := Audit{Rows: in.Rows, Outcomes: map[jobs.Outcome]int{}}
	run, err := in.Store.Run(ctx, in.RunID)
	if err != nil {
		return a, err
	}
	seen := map[int]bool{}
	recordedByWorkers := 0
	err = in.Store.EachRow(ctx, in.RunID, func(r jobs.ReportRow) error {
		seen[r.Line] = true
		if r.Line < 2 || r.Line > in.Rows+1 {
			a.problem("line %d: the store holds a row beyond the input's %d rows", r.Line, in.Rows)
			return nil
		}
		if r.Pending {
			a.Lost = append(a.Lost, r.Line)
			return nil
		}
		o := r.Outcome
		a.Outcomes[o.Outcome]++
		if in.Records != nil && in.Records[r.Line] > 1 {
			a.Doubled = append(a.Doubled, r.Line)
		}
		recordedByWorkers += min(in.Records[r.Line], 1)
		a.checkRow(in, r)
		return nil
	})
	if err != nil {
		return a, err
	}
	for l := 2; l <= in.Rows+1; l++ {
		if !seen[l] {
			a.Lost = append(a.Lost, l)
		}
	}
	if in.ReportLines != nil {
		for l := 2; l <= in.Rows+1; l++ {
			switch n := in.ReportLines[l]; {
			case n == 0 && !slices.Contains(a.Lost, l):
				a.Lost = append(a.Lost, l)
				a.problem("line %d: missing from the report", l)
			case n > 1 && !slices.Contains(a.Doubled, l):
				a.Doubled = append(a.Doubled, l)
				a.problem("line %d: %d rows in the report", l, n)
			}
		}
	}
	if in.Records != nil && recordedByWorkers == 0 && a.handledByWorkers() > 0 {
		a.problem("no worker log records an outcome: the workers' log message changed (CountRecords must follow it)")
	}
	a.checkCounters(run)
	slices.Sort(a.Lost)
	slices.Sort(a.Doubled)
	if len(a.Lost) > 0 {
		a.problem("%d rows lost (no outcome): lines %v", len(a.Lost), head(a.Lost))
	}
	if len(a.Doubled) > 0 {
		a.problem("%d rows with two outcomes: lines %v", len(a.Doubled), head(a.Doubled))
	}
	return a, nil
}

// handledByWorkers counts the rows whose outcome a worker recorded (not cancel, not ingest).
func (a Audit) handledByWorkers() int {
	n := 0
	for o, c := range a.Outcomes {
		if o != jobs.Cancelled && o != jobs.Invalid && o != jobs.Duplicate {
			n += c
		}
	}
	return n
}

func (a *Audit) checkRow(in Input, r jobs.ReportRow) {
	o := r.Outcome
	if o.Outcome == jobs.Invalid || o.Outcome == jobs.Duplicate {
		return // never queued; a duplicate shares its account with its first line
	}
	calls := in.Calls(r)
	applied := in.Applied(r)
	a.Calls += calls
	if calls > 1 {
		a.ExtraCalls += calls - 1
	}
	if o.Attempts > 0 && calls > o.Attempts {
		a.problem("line %d: %d calls reached the account in %d attempts", r.Line, calls, o.Attempts)
	}
	switch o.Outcome {
	case jobs.Reactivated:
		if o.Reason == jobs.ReasonConfirmedOnRetry {
			a.Ambiguous++
			if o.Attempts < 2 {
				a.problem("line %d: confirmed_on_retry after %d attempts, want 2 or more", r.Line, o.Attempts)
			}
		}
		if calls < 1 {
			a.problem("line %d: reactivated without any call reaching the account", r.Line)
		}
		if !applied {
			a.problem("line %d: reactivated, but the provider shows the account still deactivated", r.Line)
		}
	case jobs.Cancelled:
		ambiguous := strings.Contains(o.Message, mayHaveReached)
		if calls > 0 && !ambiguous {
			a.problem("line %d: cancelled as never called, but %d calls reached the account", r.Line, calls)
		}
		if applied && !ambiguous {
			a.problem("line %d: cancelled as never called, but the account was reactivated", r.Line)
		}
	default:
		if applied {
			a.problem("line %d: %s (%s), but the provider shows the account reactivated", r.Line, o.Outcome, o.Message)
		}
	}
}

func (a *Audit) checkCounters(run jobs.Run) {
	tally := 0
	for _, o := range jobs.Outcomes {
		tally += a.Outcomes[o]
		if run.Counts[o] != a.Outcomes[o] {
			a.problem("run counter %s = %d, want the per-row tally %d", o, run.Counts[o], a.Outcomes[o])
		}
	}
	if run.Done != tally {
		a.problem("run counter done = %d, want the per-row tally %d", run.Done, tally)
		if run.Done > tally && len(a.Doubled) == 0 {
			// The counters saw outcomes the rows do not hold: recorded twice.
			for range run.Done - tally {
				a.Doubled = append(a.Doubled, 0)
			}
		}
	}
	if run.Total != a.Rows {
		a.problem("run total = %d, want %d input rows", run.Total, a.Rows)
	}
	if run.State != jobs.RunFinished && len(a.Lost) == 0 {
		a.problem("run state = %s with every row done, want finished", run.State)
	}
}

func head(l []int) []int {
	if len(l) > 10 {
		return l[:10]
	}
	return l
}

// Worker log messages that say a row's outcome was recorded (worker/handler.go).
var recordMessages = []string{"row done", "row cancelled before its call"}

// CountRecords reads a worker's JSON log (--log-format json --log-level debug) and adds to
// counts, per line of run runID, each time the worker logged recording the row's outcome.
func CountRecords(r io.Reader, runID string, counts map[int]int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var e struct {
			Msg  string `json:"msg"`
			Run  string `json:"run"`
			Line int    `json:"line"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Run != runID || !slices.Contains(recordMessages, e.Msg) {
			continue
		}
		counts[e.Line]++
	}
	return sc.Err()
}

// CountReportLines reads a CSV report (`reactivator report RUN`) and counts its rows per line.
func CountReportLines(r io.Reader) (map[int]int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("report header: %w", err)
	}
	if len(head) == 0 || head[0] != "line" {
		return nil, fmt.Errorf("report header %v: want line first", head)
	}
	counts := map[int]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return counts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		n, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("report line cell %q: %w", rec[0], err)
		}
		counts[n]++
	}
}
