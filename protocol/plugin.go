package protocol

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// GRPCPlugin is the go-plugin plugin that carries the Control service.
// In a plugin process Impl is set; in the host it is nil and
// Dispense returns a ControlClient.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl ControlServer
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the Control service in the plugin process.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	RegisterControlServer(s, p.Impl)
	return nil
}

// GRPCClient returns the host's ControlClient.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewControlClient(c), nil
}

// PluginSet is the set both sides give go-plugin; server is nil in the
// host.
func PluginSet(server ControlServer) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCPlugin{Impl: server}}
}
