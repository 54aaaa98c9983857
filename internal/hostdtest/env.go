package hostdtest

import (
	"os"
	"strings"

	"github.com/hostd/hostd/framework/config"
)

// ClearEnvironment unsets the HOSTD_ variables the test process
// inherited, which would override the configurations the tests write
// (for the hosts they start in-process and the hostd processes they
// run) with whatever the developer has set. TestMain calls it before the
// tests run; a test that wants an override sets it with t.Setenv.
func ClearEnvironment() {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, config.EnvPrefix) {
			os.Unsetenv(name)
		}
	}
}
