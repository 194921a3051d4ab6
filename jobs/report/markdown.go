// This file holds the Markdown report: a summary for humans with advice per outcome, the timings
// and the first failures.

package report

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"reactivator/jobs"
)

// mdFailureRows is how many failure rows the Markdown report lists.
const mdFailureRows = 50

// mdReport writes the Markdown summary: counts with advice, timings, the first failures.
type mdReport struct {
	w     *bufio.Writer
	runID string
	n     int // failure rows seen
}

// mdCell makes s safe inside a Markdown table cell: no line breaks, no column breaks, no HTML.
var mdCell = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "\\`")

func (m *mdReport) begin(s jobs.ReportSummary, _ []string) error {
	m.runID = s.RunID
	w := m.w
	fmt.Fprintf(w, "# Reactivation report: %s\n\n", mdCell.Replace(s.RunID))
	rows := "still ingesting"
	if s.Rows >= 0 {
		rows = strconv.Itoa(s.Rows)
	}
	fmt.Fprintf(w, "Provider %s, file %s, %s rows, %s.\n\n", s.Provider, mdCell.Replace(s.File), rows, s.Status)
	w.WriteString("| outcome | rows | what to do |\n|---|---:|---|\n")
	for _, o := range jobs.Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(w, "| %s | %d | %s |\n", o, n, o.Advice())
		}
	}
	if s.Pending > 0 {
		fmt.Fprintf(w, "| %s | %d | not called yet: wait for the run to finish |\n", pendingOutcome, s.Pending)
	}
	w.WriteString("\n## Timings\n\n")
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"created", s.CreatedAt}, {"first call", s.FirstCallAt}, {"last outcome", s.LastOutcomeAt}, {"finished", s.FinishedAt}} {
		v := "-"
		if !t.at.IsZero() {
			v = rfc3339(t.at)
		}
		fmt.Fprintf(w, "- %s: %s\n", t.name, v)
	}
	fmt.Fprintf(w, "- calling time: %s\n- rate: %.3g rows/s\n", s.Duration.Round(time.Millisecond), s.Rate)
	_, err := fmt.Fprintf(w, "\n## Failures\n\n")
	return err
}

func (m *mdReport) row(r reportRow) error {
	m.n++
	if m.n > mdFailureRows {
		return nil
	}
	w := m.w
	if m.n == 1 {
		w.WriteString("| line | ids | outcome | message |\n|---:|---|---|---|\n")
	}
	var ids []string
	for _, id := range []struct{ name, v string }{{"organization_id", r.OrgID}, {"member_id", r.MemberID}, {"user_id", r.UserID}} {
		if id.v != "" {
			ids = append(ids, id.name+"="+id.v)
		}
	}
	msg := r.Message
	if r.Reason != "" {
		msg = strings.TrimSpace(r.Reason + ": " + msg)
	}
	_, err := fmt.Fprintf(w, "| %d | %s | %s | %s |\n", r.Line, mdCell.Replace(strings.Join(ids, " ")), r.Outcome, mdCell.Replace(msg))
	return err
}

func (m *mdReport) end(written int) error {
	w := m.w
	all := fmt.Sprintf("`reactivator report %s --failed-only -o failed.csv`", m.runID)
	switch {
	case written == 0:
		w.WriteString("None.\n")
	case written > mdFailureRows:
		fmt.Fprintf(w, "\nShowing the first %d of %d failures; %s lists them all and is valid input for `reactivator run` or `ingest`.\n",
			mdFailureRows, written, all)
	default:
		fmt.Fprintf(w, "\n%s lists them as a CSV that is valid input for `reactivator run` or `ingest`.\n", all)
	}
	return w.Flush()
}
