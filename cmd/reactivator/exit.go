// This file gives the command files short names for the usage error that internal/exitcode
// turns into exit 2 (the other endings come typed from the libraries).

package main

import "reactivator/internal/exitcode"

// usage and usageError return a bad command line (exit 2).
var (
	usage      = exitcode.AsUsage
	usageError = exitcode.Usagef
)
