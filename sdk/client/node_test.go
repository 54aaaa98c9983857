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

	"github.com/hostd/hostd/internal/testutil"
)

//go:embed testdata/server.js
var serverJS []byte

// startNode runs testdata/server.js and returns its address; the
// process ends with the test.
func startNode(t *testing.T) string {
	t.Helper()
	bin := testutil.Node(t)
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
