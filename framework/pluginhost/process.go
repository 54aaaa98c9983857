package pluginhost

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/status"

	"github.com/hostd/hostd/protocol"
)

// gracePeriod is how long a stopped plugin may take to exit by itself
// before its process group is killed.
const gracePeriod = 3 * time.Second

// process is what the host owns of a plugin process besides go-plugin's
// client: the process group the plugin leads and the folder its go-plugin
// socket lives in.
type process struct {
	cmd     *exec.Cmd
	client  *goplugin.Client
	sockDir string // PLUGIN_UNIX_SOCKET_DIR: go-plugin's socket goes here
	once    sync.Once
}

// newProcess prepares cmd: its own process group, and its own folder for
// the go-plugin socket, which a crashed plugin cannot remove itself.
func newProcess(cmd *exec.Cmd) (*process, error) {
	dir, err := os.MkdirTemp("", "hostd-plugin-")
	if err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	cmd.Env = append(cmd.Env, goplugin.EnvUnixSocketDir+"="+dir)
	setProcAttr(cmd)
	return &process{cmd: cmd, sockDir: dir}, nil
}

func (p *process) pid() int {
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// end stops the plugin and everything it started, and removes its socket
// folder. graceful lets it exit by itself first (go-plugin closes its
// connection and waits), up to gracePeriod; a dead or failed plugin's
// group is killed first, so that a child holding its output pipes cannot
// keep go-plugin waiting for their end.
func (p *process) end(graceful bool) {
	p.once.Do(func() {
		if p.client == nil {
			killGroup(p.pid())
			_ = os.RemoveAll(p.sockDir)
			return
		}
		if !graceful {
			killGroup(p.pid())
		}
		done := make(chan struct{})
		go func() {
			p.client.Kill()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(gracePeriod):
		}
		killGroup(p.pid())
		<-done
		_ = os.RemoveAll(p.sockDir)
	})
}

// startError is a plugin that failed before or during its handshake, with
// what it wrote on stderr: the plugin's own words say more than
// go-plugin's guesses ("not compiled for this architecture").
type startError struct {
	cmd    string
	stderr string
	err    error
}

func (e *startError) Error() string {
	if e.stderr == "" {
		return "starting " + e.cmd + ": " + e.err.Error()
	}
	first, _, _ := strings.Cut(e.err.Error(), "\n")
	return "starting " + e.cmd + ": " + first + "; its stderr: " + e.stderr
}

func (e *startError) Unwrap() error { return e.err }

// ConfigError is a plugin refusing its config table. Key names the key at
// fault, a dotted path in the table, when the plugin said which.
type ConfigError struct {
	Key, Reason string
	Err         error // the Configure call's error
}

func (e *ConfigError) Error() string {
	if st, ok := status.FromError(e.Err); ok {
		return "configure: " + st.Message()
	}
	return "configure: " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

func configureError(err error) error {
	key, reason, _ := protocol.RefusedKey(err)
	return &ConfigError{Key: key, Reason: reason, Err: err}
}
