package sdk

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/hostd/hostd/protocol"
)

// logger is the plugin's logger: JSON lines on stderr, which go-plugin
// forwards into hostd's log under the plugin's name.
var logger = hclog.New(&hclog.LoggerOptions{
	Output:     os.Stderr,
	JSONFormat: true,
	Level:      hclog.Trace,
})

// Logger returns the plugin's logger. What it logs appears in hostd's log,
// attributed to the plugin.
func Logger() hclog.Logger { return logger }

// Serve runs p, which implements one or more of the handler interfaces
// (RequestHandler, UpgradeHandler, …), as a hostd plugin. It does not
// return: the process exits when hostd stops it or goes away.
func Serve(p any) {
	if events(p) == 0 {
		fmt.Fprintf(os.Stderr, "sdk.Serve: %T handles no event: implement RequestHandler, UpgradeHandler, ConnectHandler, CheckContinueHandler, CheckExpectationHandler, ClientErrorHandler, DropRequestHandler or TimeoutHandler\n", p)
		os.Exit(1)
	}
	conn, err := dataPlane()
	if err != nil {
		fmt.Fprintf(os.Stderr, "This program is a hostd plugin; hostd starts it (%v).\n", err)
		os.Exit(1)
	}
	rt := newRuntime(p, logger, true)
	go func() {
		// The data plane ends when hostd does, even if it was killed:
		// never outlive the host.
		err := rt.serveConn(conn)
		logger.Debug("data plane closed; exiting", "reason", err)
		os.Exit(0)
	}()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: protocol.Handshake,
		Plugins:         protocol.PluginSet(rt),
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
	})
	os.Exit(0)
}

// dataPlane opens the socket hostd handed to the process.
func dataPlane() (*net.UnixConn, error) {
	v := os.Getenv(protocol.EnvDataPlaneFD)
	if v == "" {
		return nil, fmt.Errorf("%s is not set", protocol.EnvDataPlaneFD)
	}
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", protocol.EnvDataPlaneFD, v, err)
	}
	f := os.NewFile(uintptr(fd), "hostd-data-plane")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("data plane: descriptor %d is not a Unix socket", fd)
	}
	return uc, nil
}

// ServeConn serves p's events from a data-plane connection until it
// closes, without go-plugin: the host end must speak the protocol. It is
// what sdktest uses, and is handy for embedding; plugins call Serve.
func ServeConn(c *net.UnixConn, p any, opts ConnOptions) error {
	rt := newRuntime(p, opts.Logger, false)
	s := settings{rejectBody: opts.RejectNonStandardBodyWrites, joinDuplicates: opts.JoinDuplicateHeaders}
	if opts.Config != nil {
		if err := rt.configure(opts.Name, opts.Config, s); err != nil {
			c.Close()
			return err
		}
	} else {
		rt.settings.Store(&s)
	}
	return rt.serveConn(c)
}

// ConnOptions configures ServeConn.
type ConnOptions struct {
	// Name and Config are the plugin's name and config table (JSON); a nil
	// Config skips Configure.
	Name   string
	Config []byte
	// RejectNonStandardBodyWrites and JoinDuplicateHeaders mirror the
	// server options.
	RejectNonStandardBodyWrites bool
	JoinDuplicateHeaders        bool
	// Logger receives diagnostics; nil means none.
	Logger hclog.Logger
}
