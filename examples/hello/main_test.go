package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hostd/hostd/internal/hostdtest"
)

var bin string

func TestMain(m *testing.M) { hostdtest.Main(m, &bin, "github.com/hostd/hostd/examples/hello") }

// TestTheExampleServesHello runs hostd from this folder's hostd.toml, on a
// free port and with the plugin built by the test.
func TestTheExampleServesHello(t *testing.T) {
	toml, err := os.ReadFile("hostd.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(toml), `listen = ["127.0.0.1:8080"]`, `listen = ["127.0.0.1:0"]`, 1)
	s = strings.Replace(s, `cmd = "../../bin/hello"`, fmt.Sprintf("cmd = %q", bin+"/hello"), 1)
	h := hostdtest.Start(t, s)
	h.Get(t, "/anything").RequireStatus(200).RequireBody("Hello, World!").RequireHeader("Content-Type", "text/plain")
}
