// This file is responsible for the process attributes of the redis-server child on Unix systems
// other than Linux.

//go:build unix && !linux

package embedredis

import "syscall"

// sysProcAttr puts the child in its own process group, so that the Ctrl-C of a terminal reaches
// the command and not the Redis it still needs.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
