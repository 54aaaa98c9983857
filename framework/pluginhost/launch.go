package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/hostd/hostd/internal/socketpair"
	"github.com/hostd/hostd/internal/sysmon"
	"github.com/hostd/hostd/protocol"
)

// launch starts a process for spec and returns its configured, healthy
// instance.
func launch(ctx context.Context, spec *Spec, gen uint64, log hclog.Logger) (*Instance, error) {
	ctx, cancel := context.WithTimeout(ctx, spec.startTimeout())
	defer cancel()

	hostEnd, pluginEnd, err := socketpair.New()
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	defer pluginEnd.Close() // the child has its copy once started

	cmd := exec.Command(spec.Cmd, spec.Args...)
	cmd.Env = append(append(sysmon.Env(pluginEnviron()), spec.Env...), protocol.EnvDataPlaneFD+"="+strconv.Itoa(protocol.DataPlaneFD))
	cmd.ExtraFiles = []*os.File{pluginEnd}
	out := newOutput(log)
	proc, err := newProcess(cmd)
	if err != nil {
		hostEnd.Close()
		return nil, err
	}

	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  protocol.Handshake,
		Plugins:          protocol.PluginSet(nil),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           quietLines{log},
		AutoMTLS:         true,
		StartTimeout:     spec.startTimeout(),
		SkipHostEnv:      true, // cmd.Env has it, without hostd's own settings
		Stderr:           out.stream("stderr", true),
		SyncStdout:       out.stream("stdout", false),
		SyncStderr:       out.stream("stderr", false),
	}
	if spec.SHA256 != "" {
		sum, err := hex.DecodeString(spec.SHA256)
		if err != nil {
			hostEnd.Close()
			proc.end(false)
			return nil, fmt.Errorf("sha256 %q: %w", spec.SHA256, err)
		}
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	client := goplugin.NewClient(cfg)
	proc.client = client
	fail := func(err error) (*Instance, error) {
		proc.end(false)
		hostEnd.Close()
		return nil, err
	}
	rpc, err := client.Client()
	if err != nil {
		proc.end(false) // its stderr is all read once it has ended
		return fail(&startError{cmd: spec.Cmd, stderr: out.stderrTail(), err: err})
	}
	raw, err := rpc.Dispense(protocol.PluginName)
	if err != nil {
		return fail(fmt.Errorf("dispensing: %w", err))
	}
	ctl, ok := raw.(protocol.ControlClient)
	if !ok {
		return fail(fmt.Errorf("plugin served %T, not the hostd control service", raw))
	}
	resp, err := ctl.Configure(ctx, &protocol.ConfigureRequest{
		ProtocolVersion:             protocol.Version,
		Name:                        spec.Name,
		ConfigJson:                  spec.Config,
		RelaySockets:                spec.RelaySockets,
		RejectNonStandardBodyWrites: spec.RejectNonStandardBodyWrites,
		JoinDuplicateHeaders:        spec.JoinDuplicateHeaders,
	})
	if err != nil {
		return fail(configureError(err))
	}
	if resp.ProtocolVersion != protocol.Version {
		return fail(fmt.Errorf("plugin speaks data-plane version %d, hostd %d", resp.ProtocolVersion, protocol.Version))
	}
	health, err := ctl.Health(ctx, &protocol.HealthRequest{})
	if err != nil {
		return fail(fmt.Errorf("health check: %w", err))
	}
	if !health.Serving {
		return fail(fmt.Errorf("health check: not serving: %s", health.Message))
	}
	in := newInstance(spec, gen, proc, ctl, hostEnd, resp, log)
	go in.readLoop()
	return in, nil
}

// pluginEnviron is the environment a plugin inherits: the host's, without
// hostd's own settings (HOSTD_..., among them the admin API's token).
func pluginEnviron() []string {
	env := os.Environ()
	kept := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HOSTD_") {
			kept = append(kept, kv)
		}
	}
	return kept
}
