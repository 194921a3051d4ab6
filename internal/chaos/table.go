// This file prints the chaos table: one Markdown row per scenario with its audit's figures.

package chaos

import (
	"fmt"
	"io"
	"strings"
	"time"

	"reactivator/jobs"
)

// Result is one scenario's figures.
type Result struct {
	Scenario string
	Audit    Audit
	// Refused counts the requests that reached the provider but no account: refused by its rate
	// limit (429) or by revoked credentials (401), or cut off before the change (a killed worker).
	Refused int
	// Elapsed is the time from the first row queued to the run's last outcome.
	Elapsed time.Duration
	// AfterStop counts the requests that reached the provider more than 100 ms after the
	// scenario's stop (a signal, a cancel, a fatal answer): the stop rule's aim is 0. -1 when the
	// scenario has no stop.
	AfterStop int
}

// WriteTable writes the results as a Markdown table: scenario, rows, outcomes by kind, rows lost,
// rows with two outcomes, extra provider calls, requests that reached no account and time.
func WriteTable(w io.Writer, results []Result) error {
	var b strings.Builder
	b.WriteString("| scenario | rows | outcomes | rows lost | rows with two outcomes | extra provider calls | refused or cut requests (429, 401, kill) | requests after the stop | time |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		after := "-"
		if r.AfterStop >= 0 {
			after = fmt.Sprint(r.AfterStop)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %d | %d | %d | %s | %s |\n", r.Scenario, r.Audit.Rows, outcomesText(r.Audit),
			len(r.Audit.Lost), len(r.Audit.Doubled), r.Audit.ExtraCalls, r.Refused, after, r.Elapsed.Round(time.Second))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// outcomesText is "reactivated 290 (12 confirmed on retry), cancelled 10", in report order.
func outcomesText(a Audit) string {
	var parts []string
	for _, o := range jobs.Outcomes {
		n := a.Outcomes[o]
		if n == 0 {
			continue
		}
		s := fmt.Sprintf("%s %d", o, n)
		if o == jobs.Reactivated && a.Ambiguous > 0 {
			s += fmt.Sprintf(" (%d confirmed on retry)", a.Ambiguous)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
