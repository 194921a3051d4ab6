// This file holds the JSON report: its documented types and the writer that streams them.

package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"

	"reactivator/jobs"
)

// JSON is the document of `report --format json` (and the dashboard's report.json): the run's
// summary and its rows in line order. Its field names and meanings are part of the program's
// interface; scripts may decode a report into it. The report is written as
//
//	{"summary":{…},
//	"rows":[
//	{…},
//	{…}
//	]}
//
// one row per line, so that a report of any size streams; json.Unmarshal reads it into JSON.
type JSON struct {
	Summary JSONSummary `json:"summary"`
	Rows    []JSONRow   `json:"rows"`
}

// JSONSummary is what a JSON report says about its run as a whole, when the report began.
type JSONSummary struct {
	RunID    string        `json:"run_id"`
	Provider jobs.Provider `json:"provider"`
	// File is the input file's name as ingested.
	File  string        `json:"file"`
	State jobs.RunState `json:"state"`
	// Status is the run's state in the words the CLI and the dashboard use.
	Status jobs.Status `json:"status"`
	// Rows is the number of input rows; -1 while the run is still ingesting.
	Rows int `json:"rows"`
	// Counts is the number of rows per outcome ({} when none has one).
	Counts map[jobs.Outcome]int `json:"counts"`
	// Pending is the number of rows without an outcome yet.
	Pending int `json:"pending"`
	// Failures is the number of rows that ended as a permanent failure.
	Failures int `json:"failures"`
	// CreatedAt, FirstCallAt and FinishedAt are RFC 3339 times in UTC, left out when unknown.
	CreatedAt   string `json:"created_at,omitempty"`
	FirstCallAt string `json:"first_call_at,omitempty"`
	FinishedAt  string `json:"finished_at,omitempty"`
	// DurationSeconds is the time from the first call to the last outcome, 0 when unknown.
	DurationSeconds float64 `json:"duration_seconds"`
	// RatePerSecond is rows per second over DurationSeconds, 0 when unknown.
	RatePerSecond float64 `json:"rate_per_second"`
}

// JSONRow is one input row of a JSON report with its outcome: the CSV report's record, with the
// true values (no spreadsheet neutralising) and the input's extra columns in Extra.
type JSONRow struct {
	// Line is the row's line in the input file (the header is line 1).
	Line     int           `json:"line"`
	Provider jobs.Provider `json:"provider"`
	// OrganizationID, MemberID and UserID are the row's ids; for a row named by email or login
	// name, the ids its lookup found.
	OrganizationID string `json:"organization_id"`
	MemberID       string `json:"member_id"`
	UserID         string `json:"user_id"`
	// Outcome is one of jobs.Outcomes, or "pending" while the row has none.
	Outcome string `json:"outcome"`
	// Reason, HTTPStatus, RequestID, Attempts, FinishedAt (RFC 3339, UTC) and Message are left
	// out when empty or zero.
	Reason     string `json:"reason,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Attempts   int    `json:"attempts,omitempty"`
	FinishedAt string `json:"finished_at,omitempty"`
	Message    string `json:"message,omitempty"`
	// Extra is the input's other columns, by their report header names, in the file's order.
	Extra Extra `json:"extra"`
}

// Extra is a JSON object of strings that keeps its keys in order: a row's extra input columns
// under their report header names (an input column whose name clashes with one of the report's
// gets the prefix input_). Keys and Values have the same length.
type Extra struct {
	Keys   []string
	Values []string
}

// Get returns the value of key, "" when there is none.
func (e Extra) Get(key string) string {
	for i, k := range e.Keys {
		if k == key {
			return e.Values[i]
		}
	}
	return ""
}

// MarshalJSON writes the object with its keys in order.
func (e Extra) MarshalJSON() ([]byte, error) {
	if len(e.Keys) == 0 {
		return []byte("{}"), nil
	}
	b := []byte{'{'}
	for i, k := range e.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(e.Values[i])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads an object of strings, keeping its keys in order.
func (e *Extra) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("report extra: want an object of strings, got %s", b)
	}
	e.Keys, e.Values = nil, nil
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return fmt.Errorf("report extra: %w", err)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("report extra %q: %w", k, err)
		}
		e.Keys, e.Values = append(e.Keys, k.(string)), append(e.Values, v)
	}
	_, err := dec.Token()
	return err
}

// jsonReport writes a JSON document one row at a time.
type jsonReport struct {
	w     *bufio.Writer
	extra []string
	n     int
}

func (j *jsonReport) begin(s jobs.ReportSummary, extra []string) error {
	j.extra = extra
	counts := s.Counts
	if counts == nil {
		counts = map[jobs.Outcome]int{}
	}
	b, err := json.Marshal(JSONSummary{
		RunID: s.RunID, Provider: s.Provider, File: s.File, State: s.State, Status: s.Status, Rows: s.Rows, Counts: counts,
		Pending: s.Pending, Failures: s.Failures, CreatedAt: rfc3339(s.CreatedAt), FirstCallAt: rfc3339(s.FirstCallAt),
		FinishedAt: rfc3339(s.FinishedAt), DurationSeconds: s.Duration.Seconds(), RatePerSecond: s.Rate,
	})
	if err != nil {
		return err
	}
	j.w.WriteString(`{"summary":`)
	j.w.Write(b)
	_, err = j.w.WriteString(",\n\"rows\":[")
	return err
}

func (j *jsonReport) row(r reportRow) error {
	b, err := json.Marshal(JSONRow{
		Line: r.Line, Provider: r.Provider, OrganizationID: r.OrgID, MemberID: r.MemberID, UserID: r.UserID,
		Outcome: r.Outcome, Reason: r.Reason, HTTPStatus: r.HTTPStatus, RequestID: r.RequestID,
		Attempts: r.Attempts, FinishedAt: r.FinishedAt, Message: r.Message,
		Extra: Extra{Keys: j.extra, Values: r.Extra},
	})
	if err != nil {
		return err
	}
	if j.n > 0 {
		j.w.WriteByte(',')
	}
	j.n++
	j.w.WriteByte('\n')
	_, err = j.w.Write(b)
	return err
}

func (j *jsonReport) end(int) error {
	j.w.WriteString("\n]}\n")
	return j.w.Flush()
}
