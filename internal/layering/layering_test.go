package layering

import (
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/hostd/hostd"

// rule forbids the packages under from to depend, even indirectly, on
// packages under to. Paths are relative to the module; "" is the module.
type rule struct {
	from, to string
	except   []string // packages under from the rule does not apply to
	why      string
}

// testOnly are the packages only tests may import: they carry test
// dependencies (testify, the test binary's re-exec plugins) that no
// shipped binary should link.
var testOnly = []string{"internal/hostdtest", "internal/testutil"}

func rules() []rule {
	r := []rule{
		{from: "sdk", to: "framework", why: "what plugin authors import never pulls in the host's engine"},
		{from: "framework", to: "sdk", why: "the engine never depends on the SDK (sdk/client included): both meet in protocol"},
		{from: "plugins", to: "framework", why: "shipped plugins are written against the SDK alone"},
		{from: "protocol", to: "", why: "the contract imports nothing of ours"},
	}
	for _, p := range testOnly {
		r = append(r, rule{from: "", to: p, except: testOnly, why: "only tests import " + p})
	}
	return r
}

// under reports whether pkg is the package at rel (relative to the
// module) or below it.
func under(pkg, rel string) bool {
	base := module
	if rel != "" {
		base += "/" + rel
	}
	return pkg == base || strings.HasPrefix(pkg, base+"/")
}

// violations lists, sorted, each dependency of graph (package → every
// package it depends on, directly or not, test files excluded) that a
// rule forbids.
func violations(graph map[string][]string, rules []rule) []string {
	var out []string
	for pkg, deps := range graph {
		for _, r := range rules {
			if !under(pkg, r.from) || exempt(pkg, r.except) {
				continue
			}
			for _, dep := range deps {
				if under(dep, r.to) && dep != pkg {
					out = append(out, pkg+" depends on "+dep+": "+r.why)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func exempt(pkg string, except []string) bool {
	for _, e := range except {
		if under(pkg, e) {
			return true
		}
	}
	return false
}

// moduleGraph lists every package of the module with its non-test
// dependencies, as the go command resolves them.
func moduleGraph(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", module+"/...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	graph := make(map[string][]string)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		graph[f[0]] = f[1:]
	}
	return graph
}

func TestTheModuleKeepsItsLayers(t *testing.T) {
	graph := moduleGraph(t)
	// The listing is of the real module: these edges exist, or the rules
	// below would pass on an empty or wrong graph.
	require.Contains(t, graph[module+"/sdk"], module+"/protocol")
	require.Contains(t, graph[module+"/framework/hostd"], module+"/framework/server")
	require.Contains(t, graph[module+"/plugins/echo"], module+"/sdk")
	require.Contains(t, graph[module+"/internal/hostdtest"], module+"/sdk", "hostdtest is listed with its own dependencies")
	require.Empty(t, violations(graph, rules()))
}

// The rules must catch what they forbid: each one, fed a graph that breaks
// it, reports the edge.
func TestTheRulesCatchABrokenLayer(t *testing.T) {
	p := func(rel string) string { return module + "/" + rel }
	for _, tc := range []struct {
		name  string
		graph map[string][]string
		want  string
	}{
		{"the SDK importing the engine", map[string][]string{p("sdk/client"): {p("protocol"), p("framework/server")}}, "sdk/client depends on " + p("framework/server")},
		{"the engine importing the SDK", map[string][]string{p("framework/pluginhost"): {p("sdk/client")}}, "framework/pluginhost depends on " + p("sdk/client")},
		{"a plugin importing the engine", map[string][]string{p("plugins/echo/cmd/echo"): {p("sdk"), p("framework/config")}}, "plugins/echo/cmd/echo depends on " + p("framework/config")},
		{"the contract importing anything of ours", map[string][]string{p("protocol"): {p("internal/httpspec")}}, "protocol depends on " + p("internal/httpspec")},
		{"a command linking the test harness", map[string][]string{p("cmd/hostd"): {p("framework/hostd"), p("internal/hostdtest")}}, "cmd/hostd depends on " + p("internal/hostdtest")},
		{"a library linking the test helpers", map[string][]string{p("sdk/sdktest"): {p("internal/testutil")}}, "sdk/sdktest depends on " + p("internal/testutil")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := violations(tc.graph, rules())
			require.Len(t, got, 1)
			require.Contains(t, got[0], tc.want)
		})
	}
	t.Run("test-only packages may use each other", func(t *testing.T) {
		require.Empty(t, violations(map[string][]string{p("internal/hostdtest"): {p("internal/testutil"), p("sdk")}}, rules()))
	})
}
