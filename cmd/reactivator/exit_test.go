package main

import (
	"strings"
	"testing"

	"reactivator/internal/exitcode"
)

// The exit codes under the names the command tests use.
const (
	exitOK          = exitcode.OK
	exitError       = exitcode.Error
	exitUsage       = exitcode.Usage
	exitSomeFailed  = exitcode.SomeFailed
	exitFatal       = exitcode.Fatal
	exitInterrupted = exitcode.Interrupted
)

// TestUsageIsTyped checks that command-line errors exit 2 because they are typed where cobra
// makes them, and that an error whose text reads like cobra's is not one.
func TestUsageIsTyped(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"status", "--frob"}, nil, exitUsage, "unknown flag: --frob"},
		{"flag without value", []string{"status", "--redis"}, nil, exitUsage, "flag needs an argument"},
		{"bad flag value", []string{"worker", "--concurrency", "many"}, nil, exitUsage, "invalid argument"},
		{"too many arguments", []string{"status", "a", "b"}, nil, exitUsage, "accepts at most 1 arg"},
		{"required flag", []string{"scheduler"}, nil, exitUsage, `required flag(s) "config" not set`},
		{"error text like cobra's", []string{"status"}, map[string]string{
			"REDIS_URL": "rediss://127.0.0.1:1/0", "REDIS_CA_FILE": "/x/invalid argument.pem"}, exitError, "REDIS_CA_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				w.setenv(k, v)
			}
			r := w.run(tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v = %s\nwant exit %d and %q on stderr", tc.args, r, tc.code, tc.want)
			}
			if hint := strings.Contains(r.stderr, "--help"); hint != (tc.code == exitUsage) {
				t.Errorf("%v: stderr names --help: %v, want %v", tc.args, hint, tc.code == exitUsage)
			}
		})
	}
}
