package pluginhost

import (
	"os/exec"
	"syscall"
)

// setProcAttr runs the plugin in its own process group, so that ending
// the group ends whatever the plugin started too, and makes the kernel
// kill the plugin if the host dies, a second guard beside the data plane
// closing.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills every process left in the plugin's group. The group
// outlives its leader while a member lives, and its id is not reused
// meanwhile.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
