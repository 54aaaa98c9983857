package client_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The client is imported by plugins: it parses with internal/http1 and
// builds heads with internal/outgoing, and pulls in nothing of the host's
// machinery (framework/: server, pluginhost, hostd, config, route).
func TestClientDoesNotImportTheFramework(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/hostd/hostd/sdk/client").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/hostd/hostd/internal/http1", "the listing is of the package's dependencies")
	require.Contains(t, deps, "github.com/hostd/hostd/internal/outgoing")
	for _, dep := range deps {
		require.False(t, strings.HasPrefix(dep, "github.com/hostd/hostd/framework"), "sdk/client imports %s", dep)
	}
}
