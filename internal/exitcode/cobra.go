// This file makes the command-line errors cobra returns usage errors where cobra makes them.

package exitcode

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// typeCobraErrors makes every command-line error cobra returns for root and its subcommands a
// usage error: bad flags (SetFlagErrorFunc), bad arguments (each command's Args), and missing
// required flags or flag groups (checked in root's PersistentPreRunE, before cobra's own check).
// Call it once every command is added, cobra's help and completion commands included.
func typeCobraErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return AsUsage(err) })
	var wrap func(c *cobra.Command)
	wrap = func(c *cobra.Command) {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return AsUsage(err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			wrap(sub)
		}
	}
	wrap(root)
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return AsUsage(err)
		}
		if err := cmd.ValidateFlagGroups(); err != nil {
			return AsUsage(err)
		}
		if pre != nil {
			return pre(cmd, args)
		}
		return nil
	}
}

// Execute runs root with args and ctx as cobra's ExecuteContext does, with every command-line
// error typed a usage error. It adds cobra's help and completion commands first (cobra adds them
// in Execute), so that their errors are typed too, and resolves args to a subcommand before
// running it: the only error cobra's Find returns is an unknown command. Shell completion
// requests are left to cobra.
func Execute(ctx context.Context, root *cobra.Command, args []string) error {
	root.SetArgs(args)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd(args...)
	typeCobraErrors(root)
	if len(args) == 0 || (args[0] != cobra.ShellCompRequestCmd && args[0] != cobra.ShellCompNoDescRequestCmd) {
		if _, _, err := root.Find(args); err != nil {
			return AsUsage(err)
		}
	}
	return root.ExecuteContext(ctx)
}

// Run executes root with args (Execute) and returns the process exit code of the error it ends
// with (Of). An error that says something is written to stderr first, after root's name; a bad
// command line then points at --help.
func Run(ctx context.Context, root *cobra.Command, args []string, stderr io.Writer) int {
	err := Execute(ctx, root, args)
	code := Of(ctx, err)
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "%s: %s\n", root.Name(), err)
		if code == Usage {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", root.Name())
		}
	}
	return code
}
