// Package housecheck holds the tests that keep the repository's written rules about its own
// source true: every package has a doc comment that starts "Package X", file comments sit apart
// from the package clause, and no comment cites a file outside the repository.
package housecheck
