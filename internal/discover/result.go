// This file holds what a search found and how it is written: the CSV with the columns ingest
// reads (the id columns first), written whole or not at all.

package discover

import (
	"encoding/csv"
	"io"
	"strings"

	"reactivator/internal/atomicfile"
)

// Column sets of the files find writes (docs/design.md, "find").
var (
	ZitadelColumns = []string{"user_id", "org_id", "email", "state", "deactivated_at", "deactivated_by"}
	StytchColumns  = []string{"organization_id", "member_id", "email", "state"}
)

// Result is what a search found: the file's header and one record per account.
type Result struct {
	Provider string     `json:"provider"`
	Header   []string   `json:"-"`
	Rows     [][]string `json:"-"`
	// Calls counts the requests the search made (listing, events, organization look-ups; not
	// ZITADEL's permission look-up).
	Calls int `json:"calls"`
}

// WriteCSV writes the header and the rows to w. A cell a spreadsheet would run as a formula is
// prefixed with a quote, as reports are.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Header); err != nil {
		return err
	}
	for _, row := range r.Rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = neutralise(c)
		}
		if err := cw.Write(safe); err != nil {
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

func neutralise(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}
