package main

import (
	"strings"
	"testing"
)

// TestEveryCommandHasHelp checks that each command's --help has a description and a real example.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	a := &app{}
	for _, c := range a.rootCmd().Commands() {
		if c.Hidden {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			if c.Short == "" || c.Long == "" {
				t.Errorf("%s: Short %q, Long %d bytes, want both", c.Name(), c.Short, len(c.Long))
			}
			if !strings.Contains(c.Example, "reactivator "+c.Name()) {
				t.Errorf("%s: Example %q does not show `reactivator %s`", c.Name(), c.Example, c.Name())
			}
		})
	}
}

func TestHelpCompletionVersion(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ingest help", []string{"ingest", "--help"}, "reactivator ingest --dry-run members.csv"},
		{"status help", []string{"status", "--help"}, "--watch"},
		{"undo help", []string{"undo", "--help"}, "undo deletes the member"},
		{"undo help, Stytch member already deleted", []string{"undo", "--help"}, "(by someone else since the run) is not_active, settled by a read"},
		{"bash completion", []string{"completion", "bash"}, "__start_reactivator"},
		{"zsh completion", []string{"completion", "zsh"}, "#compdef reactivator"},
		{"version", []string{"--version"}, "reactivator "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(tc.args...)
			if r.code != exitOK || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("%v = %s\nwant exit 0 and %q on stdout", tc.args, r, tc.want)
			}
		})
	}
}
