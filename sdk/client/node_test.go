package client_test

import (
	_ "embed"
	"testing"

	"github.com/hostd/hostd/internal/testutil"
)

//go:embed testdata/server.js
var serverJS []byte

// startNode runs testdata/server.js and returns its address; the
// process ends with the test.
func startNode(t *testing.T) string { return testutil.StartNode(t, string(serverJS)) }
