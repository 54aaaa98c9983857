package hostdtest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// RequireNode returns the path of node v20. Without it the test is
// skipped on a developer's machine and fails under CI (CI set).
func RequireNode(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err == nil {
		var out []byte
		if out, err = exec.Command(bin, "--version").Output(); err == nil {
			if strings.HasPrefix(string(out), "v20.") {
				return bin
			}
			err = &nodeVersionError{string(out)}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("node v20 is needed: %v", err)
	}
	t.Skipf("node v20 is needed: %v", err)
	return ""
}

type nodeVersionError struct{ got string }

func (e *nodeVersionError) Error() string { return "node is " + strings.TrimSpace(e.got) + ", not v20" }

// StartNode runs the Node v20 script src with args and returns the first
// line it prints (a server prints its port there). The process ends with
// the test: its stdin closes, then it is killed if it lingers.
func StartNode(t testing.TB, src string, args ...string) string {
	t.Helper()
	bin := RequireNode(t)
	script := filepath.Join(t.TempDir(), "script.js")
	require.NoError(t, os.WriteFile(script, []byte(src), 0o600))
	cmd := exec.Command(bin, append([]string{script}, args...)...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		require.NotEmpty(t, l, "node printed nothing")
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("node did not start")
	}
	return ""
}
