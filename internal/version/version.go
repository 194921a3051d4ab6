// Package version holds reactivator's version, set at build time with
// -ldflags "-X reactivator/internal/version.Version=v1.2.3".
package version

// Version is the program's version; "dev" for a build without ldflags.
var Version = "dev"

// UserAgent is the User-Agent header of every provider call.
func UserAgent() string { return "reactivator/" + Version }
