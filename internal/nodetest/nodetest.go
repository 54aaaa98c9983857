// Package nodetest runs Node v20 beside a test, for the tests that compare
// hostd with Node's http module.
package nodetest

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	findOnce sync.Once
	found    string // the path of node v20, or ""
	problem  string // why found is empty
)

// Path returns the path of a Node v20 executable. Without one the test
// fails when the CI variable is set (a comparison with Node must never
// pass unnoticed there) and is skipped otherwise.
func Path(t testing.TB) string {
	t.Helper()
	findOnce.Do(func() {
		bin, err := exec.LookPath("node")
		if err != nil {
			problem = "node is not on PATH"
			return
		}
		out, err := exec.Command(bin, "--version").Output()
		if v := strings.TrimSpace(string(out)); err != nil || !strings.HasPrefix(v, "v20.") {
			problem = "node is not v20 (" + v + ")"
			return
		}
		found = bin
	})
	if found == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: this test compares with Node v20, which CI must have", problem)
		}
		t.Skipf("%s: this test compares with Node v20", problem)
	}
	return found
}

// Start runs the Node script src, which must print the port it listens on
// (on 127.0.0.1) as its first line and exit when its standard input ends,
// and returns host:port. The process ends with the test.
func Start(t testing.TB, src string) string {
	t.Helper()
	bin := Path(t)
	script := filepath.Join(t.TempDir(), "server.js")
	if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, script)
	stdin, err := cmd.StdinPipe() // closing it ends the process
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
			cancel()
			<-done
		}
		cancel()
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	select {
	case p := <-port:
		if p == "" {
			t.Fatal("node did not print its port")
		}
		return net.JoinHostPort("127.0.0.1", p)
	case <-time.After(30 * time.Second):
		t.Fatal("node did not start listening")
	}
	return ""
}

// Run runs the Node script src with stdin as its standard input and
// returns what it prints.
func Run(t testing.TB, src, stdin string) []byte {
	t.Helper()
	bin := Path(t)
	cmd := exec.Command(bin, "-e", src)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	return out
}
