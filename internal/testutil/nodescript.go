package testutil

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartNode runs the Node script src with args (node v20, as Node finds
// it) and returns the first line it prints: a server prints its port
// there. The process ends with the test: its stdin closes, then it is
// killed if it lingers. A script that should live as long as the test
// exits when its stdin ends.
func StartNode(t testing.TB, src string, args ...string) string {
	t.Helper()
	bin := Node(t)
	script := filepath.Join(t.TempDir(), "script.js")
	if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{script}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
		if l == "" {
			t.Fatal("node printed nothing")
		}
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("node did not start")
	}
	return ""
}
