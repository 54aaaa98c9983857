//go:build !linux

package pluginhost

import "os/exec"

// setParentDeathSignal does nothing where there is no parent death signal;
// the plugin still exits when its data plane closes.
func setParentDeathSignal(*exec.Cmd) {}
