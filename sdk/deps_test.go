package sdk_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The SDK is what plugin authors import: it depends on the protocol, never
// on hostd's framework (DESIGN.md), and neither does its test harness.
func TestSDKDoesNotImportTheFramework(t *testing.T) {
	for _, pkg := range []string{"github.com/hostd/hostd/sdk", "github.com/hostd/hostd/sdk/sdktest"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
			require.NoError(t, err, "%s", out)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, "github.com/hostd/hostd/protocol", "the listing is of the package's dependencies")
			for _, dep := range deps {
				require.False(t, strings.HasPrefix(dep, "github.com/hostd/hostd/framework"), "%s imports %s", pkg, dep)
			}
		})
	}
}
