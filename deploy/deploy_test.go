// Package deploy_test checks the deployment files, which cannot run here
// (no container engine, no cluster): that they parse, agree with each
// other and with hostd's configuration, and that the Dockerfile builds
// hostd as README.md says.
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/hostd/hostd/framework/config"
)

// manifests decodes every document of every YAML file in deploy/kubernetes,
// by kind.
func manifests(t *testing.T) map[string]map[string]any {
	files, err := filepath.Glob("kubernetes/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	byKind := map[string]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, f)
			kind, _ := doc["kind"].(string)
			require.NotEmpty(t, kind, f)
			require.NotEmpty(t, doc["apiVersion"], f)
			require.NotEmpty(t, dig(doc, "metadata", "name"), f)
			byKind[kind] = doc
		}
	}
	return byKind
}

// dig walks maps by key and lists by index ("0").
func dig(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

var builtins = []string{"echo", "earlyhints", "tunnel"}

func TestTheKubernetesExample(t *testing.T) {
	m := manifests(t)
	dep, svc, cm := m["Deployment"], m["Service"], m["ConfigMap"]
	require.NotNil(t, dep)
	require.NotNil(t, svc)
	require.NotNil(t, cm)
	toml, _ := dig(cm, "data", "hostd.toml").(string)
	require.NotEmpty(t, toml)

	t.Run("the ConfigMap's TOML is a valid configuration once the token is given", func(t *testing.T) {
		_, err := config.Load([]byte(toml), "configmap", ".", config.Options{Builtins: builtins, Environ: []string{}})
		require.ErrorContains(t, err, "admin.listen: 0.0.0.0:9180 is reachable from other machines")
		cfg, err := config.Load([]byte(toml), "configmap", ".", config.Options{Builtins: builtins, Environ: []string{"HOSTD_ADMIN_TOKEN=x"}})
		require.NoError(t, err)
		c := dig(dep, "spec", "template", "spec", "containers", "0")
		env := dig(c, "env", "0")
		require.Equal(t, "HOSTD_ADMIN_TOKEN", dig(env, "name"))
		require.NotNil(t, dig(env, "valueFrom", "secretKeyRef"), "the token comes from a Secret")

		t.Run("several replicas", func(t *testing.T) {
			replicas, _ := dig(dep, "spec", "replicas").(int)
			require.GreaterOrEqual(t, replicas, 2)
		})
		t.Run("readiness on /readyz and liveness on /healthz, on the admin port", func(t *testing.T) {
			require.Equal(t, "/readyz", dig(c, "readinessProbe", "httpGet", "path"))
			require.Equal(t, "/healthz", dig(c, "livenessProbe", "httpGet", "path"))
			require.Equal(t, "admin", dig(c, "readinessProbe", "httpGet", "port"))
			require.Equal(t, "admin", dig(c, "ports", "1", "name"))
			require.Equal(t, cfg.Admin.Listen, "0.0.0.0:"+strconv.Itoa(dig(c, "ports", "1", "containerPort").(int)))
			require.Equal(t, cfg.Server.Listen[0], "0.0.0.0:"+strconv.Itoa(dig(c, "ports", "0", "containerPort").(int)))
		})
		t.Run("a preStop pause, then SIGTERM drains within the grace period", func(t *testing.T) {
			pause, _ := dig(c, "lifecycle", "preStop", "sleep", "seconds").(int)
			require.Positive(t, pause)
			grace, _ := dig(dep, "spec", "template", "spec", "terminationGracePeriodSeconds").(int)
			require.Greater(t, time.Duration(grace)*time.Second, time.Duration(pause)*time.Second+cfg.Server.ShutdownTimeout)
		})
		t.Run("the container reads the ConfigMap's file", func(t *testing.T) {
			args := dig(c, "args").([]any)
			require.Equal(t, "-config", args[0])
			require.Equal(t, dig(c, "volumeMounts", "0", "mountPath").(string)+"/hostd.toml", args[1])
			require.Equal(t, dig(cm, "metadata", "name"), dig(dep, "spec", "template", "spec", "volumes", "0", "configMap", "name"))
		})
	})

	t.Run("the Service selects the Deployment's pods, on the http port", func(t *testing.T) {
		require.Equal(t, dig(dep, "spec", "template", "metadata", "labels"), dig(svc, "spec", "selector"))
		require.Equal(t, "http", dig(svc, "spec", "ports", "0", "targetPort"))
	})
}

func TestTheDockerfileBuildsAsTheREADMESays(t *testing.T) {
	docker, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	var builds []string
	sc := bufio.NewScanner(bytes.NewReader(docker))
	for sc.Scan() {
		if cmd, ok := strings.CutPrefix(sc.Text(), "RUN "); ok && strings.Contains(cmd, "go build") {
			builds = append(builds, cmd)
		}
	}
	require.NotEmpty(t, builds)
	for _, b := range builds {
		require.True(t, strings.Contains(string(readme), b), "README.md should give the Dockerfile's build command %q", b)
	}
	require.Contains(t, string(docker), "COPY --from=build /src/bin/hostd ", "the image takes what the build made")
	require.True(t, strings.Contains(string(readme), "docker build -f deploy/Dockerfile -t hostd ."), "README.md says how to build the image")
}

func TestTheSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("hostd.service")
	require.NoError(t, err)
	keys := map[string]string{}
	for _, line := range strings.Split(string(unit), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	require.Equal(t, "mixed", keys["KillMode"], "SIGTERM to hostd alone: it stops its plugins after draining")
	require.Equal(t, "/bin/kill -HUP $MAINPID", keys["ExecReload"])
	stop, err := strconv.Atoi(keys["TimeoutStopSec"])
	require.NoError(t, err)
	cfg, err := config.Load(nil, "defaults", ".", config.Options{Environ: []string{}})
	require.NoError(t, err)
	require.Greater(t, time.Duration(stop)*time.Second, cfg.Server.ShutdownTimeout)
}
