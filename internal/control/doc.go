// Package control acts on what the fleet works on, for the commands that stop, unpause and delete
// it: cancel a run, resume a paused provider, prune finished runs. Each says what it did in the
// words the commands print.
package control
