package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// NodeMajor is the Node.js major version whose behaviour hostd matches.
const NodeMajor = "v20"

// Node returns the path of the node executable for a test that compares
// hostd with Node. Without node v20 on PATH the test is skipped on a
// developer's machine, and fails where the environment variable CI is set
// (to anything but ""): there a skipped comparison would pass unnoticed.
func Node(t testing.TB) string {
	t.Helper()
	path, why := findNode()
	if why == "" {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so this comparison with Node must run", why)
	} else {
		t.Skipf("%s: this test compares with Node %s", why, NodeMajor)
	}
	return ""
}

// findNode returns node's path, or why it cannot be used.
func findNode() (path, why string) {
	path, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Sprintf("node is not on PATH (%v)", err)
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Sprintf("%s --version: %v", path, err)
	}
	version := strings.TrimSpace(string(out))
	if !strings.HasPrefix(version, NodeMajor+".") {
		return "", fmt.Sprintf("%s is Node %s, not %s", path, version, NodeMajor)
	}
	return path, ""
}
