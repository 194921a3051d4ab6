package oneshot

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"reactivator/internal/providers"
	"reactivator/jobs"
)

// Change is what one input file of a run will change, for the confirmation.
type Change struct {
	File     string
	Provider jobs.Provider
	// BaseURL is the provider's API; Env its environment ("test", "live"), "" when it has none.
	BaseURL, Env string
	// Rows is the file's number of rows.
	Rows int
}

// Confirm says what verb (reactivate, deactivate) will do to the accounts of changes (at most
// limit rows of each when limit > 0), adds the notes, asks "[y/N]" on out and reads the answer
// from in: only y or yes (any case) confirms; anything else, or no answer, does not.
func Confirm(in io.Reader, out io.Writer, verb string, changes []Change, limit int, notes []string) bool {
	fmt.Fprintf(out, "This will %s accounts:\n", verb)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range changes {
		env := ""
		if c.Env != "" {
			env = "environment " + c.Env
		}
		rows := fmt.Sprintf("%d rows", c.Rows)
		if limit > 0 && limit < c.Rows {
			rows = fmt.Sprintf("%d rows, at most %d called (--limit)", c.Rows, limit)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.File, c.Provider, c.BaseURL, env, rows)
	}
	_ = tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	fmt.Fprint(out, "Proceed? [y/N] ")
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	fmt.Fprintln(out)
	return false
}

// Changes describes what targets will change, for Confirm: each file's provider, the base URL
// and environment of its client in ps, and its rows.
func Changes(ps providers.Set, targets []Target) []Change {
	var out []Change
	for _, t := range targets {
		c := Change{File: t.File, Provider: t.Provider, Rows: t.Rows, BaseURL: ps.BaseURL(t.Provider)}
		if t.Provider == jobs.Stytch {
			c.Env = ps.StytchEnv()
		}
		out = append(out, c)
	}
	return out
}
