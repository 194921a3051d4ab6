// This file gives the command files short names for the usage error and the endings that
// internal/exitcode turns into the process exit code.

package main

import "reactivator/internal/exitcode"

// usage and usageError return a bad command line (exit 2); interrupted, fatal and
// notAllReactivated return err as the ending their names say, message unchanged.
var (
	usage             = exitcode.AsUsage
	usageError        = exitcode.Usagef
	interrupted       = exitcode.MarkInterrupted
	fatal             = exitcode.MarkFatal
	notAllReactivated = exitcode.MarkNotAllReactivated
)
