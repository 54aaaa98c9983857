package client_test

import (
	"bufio"
	_ "embed"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

//go:embed testdata/server.js
var serverJS []byte

// requireNode returns the path of node v20. Without it the test is
// skipped on a developer's machine and fails under CI.
func requireNode(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err == nil {
		out, verr := exec.Command(bin, "--version").Output()
		if verr == nil && strings.HasPrefix(string(out), "v20.") {
			return bin
		}
		err = verr
		if err == nil {
			err = &versionError{string(out)}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("node v20 is needed to compare with Node: %v", err)
	}
	t.Skipf("node v20 is needed to compare with Node: %v", err)
	return ""
}

type versionError struct{ got string }

func (e *versionError) Error() string { return "node is " + strings.TrimSpace(e.got) + ", not v20" }

// startNode runs testdata/server.js and returns its address; the
// process ends with the test.
func startNode(t *testing.T) string {
	t.Helper()
	bin := requireNode(t)
	script := filepath.Join(t.TempDir(), "server.js")
	require.NoError(t, os.WriteFile(script, serverJS, 0o600))
	cmd := exec.Command(bin, script)
	stdin, err := cmd.StdinPipe() // closing it ends the process
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
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	select {
	case p := <-port:
		require.NotEmpty(t, p, "node did not print its port")
		return net.JoinHostPort("127.0.0.1", p)
	case <-time.After(20 * time.Second):
		t.Fatal("node did not start")
	}
	return ""
}
