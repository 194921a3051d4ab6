// This file gives the command files short names for the usage error and the endings that
// internal/exitcode turns into the process exit code.

package main

import "reactivator/internal/exitcode"

// usage and usageError return a bad command line (exit 2); notAllReactivated returns err as
// that ending (exit 3), message unchanged.
var (
	usage             = exitcode.AsUsage
	usageError        = exitcode.Usagef
	notAllReactivated = exitcode.MarkNotAllReactivated
)
