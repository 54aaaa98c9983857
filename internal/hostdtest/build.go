package hostdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildMu   sync.Mutex
	buildDirs = map[string]string{}
)

// Build compiles the main packages (import paths such as
// "github.com/hostd/hostd/plugins/echo/cmd/echo") into one temporary
// folder and returns it; each executable is named after its package's
// last path element. It builds once per set of packages per process. The
// caller removes the folder (TestMain, after m.Run).
func Build(pkgs ...string) (string, error) {
	key := strings.Join(pkgs, " ")
	buildMu.Lock()
	defer buildMu.Unlock()
	if dir, ok := buildDirs[key]; ok {
		return dir, nil
	}
	dir, err := os.MkdirTemp("", "hostd-test-bin-")
	if err != nil {
		return "", err
	}
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build %s: %w\n%s", key, err, out)
	}
	buildDirs[key] = dir
	return dir, nil
}

// Main is the whole of a TestMain whose tests need real executables: it
// builds pkgs (see Build), sets *dir to their folder, clears the HOSTD_
// variables (ClearEnvironment), runs the tests and removes the folder. A
// build failure fails the run.
func Main(m *testing.M, dir *string, pkgs ...string) {
	d, err := Build(pkgs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*dir = d
	ClearEnvironment()
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}
