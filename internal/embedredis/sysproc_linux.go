// This file is responsible for the Linux process attributes of the redis-server child.

package embedredis

import "syscall"

// sysProcAttr puts the child in its own process group, so that the Ctrl-C of a terminal reaches
// the command and not the Redis it still needs, and has the kernel send it SIGTERM (a clean,
// flushing stop) should the command die without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
