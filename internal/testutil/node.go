package testutil

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// StartNode runs the Node v20 script src, which must print the port it
// listens on (on 127.0.0.1) as its first line and exit when its standard
// input ends, and returns host:port. The process ends with the test.
func StartNode(t testing.TB, src string) string {
	t.Helper()
	bin := Node(t)
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

// RunNode runs the Node v20 script src with stdin as its standard input
// and returns what it prints.
func RunNode(t testing.TB, src, stdin string) []byte {
	t.Helper()
	bin := Node(t)
	cmd := exec.Command(bin, "-e", src)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	return out
}
