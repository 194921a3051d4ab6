// This file checks that every command-line error cobra makes is typed a usage error, and that
// an error whose text reads like cobra's is not.

package exitcode

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"reactivator/internal/runwait"
)

func TestExecuteTypesCobraErrors(t *testing.T) {
	t.Parallel()
	newRoot := func() *cobra.Command {
		root := &cobra.Command{Use: "app", SilenceUsage: true, SilenceErrors: true}
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		sub := &cobra.Command{Use: "sub", Args: cobra.MaximumNArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				if len(args) == 1 && args[0] == "fail" {
					return errors.New(`invalid argument "x": unknown flag`) // reads like cobra's
				}
				return nil
			}}
		sub.Flags().Int("n", 0, "a number")
		need := &cobra.Command{Use: "need", RunE: func(*cobra.Command, []string) error { return nil }}
		need.Flags().String("config", "", "a file")
		_ = need.MarkFlagRequired("config")
		root.AddCommand(sub, need)
		return root
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"ok", []string{"sub"}, OK},
		{"unknown command", []string{"frobnicate"}, Usage},
		{"unknown flag", []string{"sub", "--frob"}, Usage},
		{"flag without value", []string{"sub", "--n"}, Usage},
		{"bad flag value", []string{"sub", "--n", "many"}, Usage},
		{"too many arguments", []string{"sub", "a", "b"}, Usage},
		{"required flag", []string{"need"}, Usage},
		{"error text like cobra's", []string{"sub", "fail"}, Error},
		{"help", []string{"help", "sub"}, OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			err := Execute(ctx, newRoot(), tc.args)
			if got := Of(ctx, err); got != tc.want {
				t.Errorf("Of(Execute(%q)) = %d (%v), want %d", tc.args, got, err, tc.want)
			}
		})
	}
}

// Run writes the error after the root's name, points a bad command line at --help, and writes
// nothing for success or an error without text.
func TestRunWritesTheError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		code       int
		wantStderr string
	}{
		{[]string{"ok"}, OK, ""},
		{[]string{"--frob"}, Usage, "app: unknown flag: --frob\nRun 'app --help' for usage.\n"},
		{[]string{"fail"}, Error, "app: it failed\n"},
		{[]string{"quiet"}, SomeFailed, ""},
	}
	for _, tc := range tests {
		root := &cobra.Command{Use: "app", SilenceUsage: true, SilenceErrors: true, Args: cobra.MaximumNArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				switch {
				case len(args) == 0 || args[0] == "ok":
					return nil
				case args[0] == "quiet":
					return runwait.Mark(runwait.ErrNotAllReactivated, errors.New(""))
				}
				return errors.New("it failed")
			}}
		root.SetOut(io.Discard)
		var stderr strings.Builder
		if code := Run(context.Background(), root, tc.args, &stderr); code != tc.code || stderr.String() != tc.wantStderr {
			t.Errorf("Run(%q) = %d, stderr %q; want %d, %q", tc.args, code, stderr.String(), tc.code, tc.wantStderr)
		}
	}
}
