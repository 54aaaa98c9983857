//go:build !linux

package pluginhost

import (
	"os/exec"
	"syscall"
)

// setProcAttr runs the plugin in its own process group; there is no
// parent death signal here, and the plugin exits when its data plane
// closes.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills every process left in the plugin's group.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
