package hostd_test

import "syscall"

// syscallKill ends a process a test started through a plugin, if a test
// failed before hostd did.
func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
