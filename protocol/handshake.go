package protocol

import "github.com/hashicorp/go-plugin"

// Version is the version of this contract: the go-plugin protocol version
// and the data-plane frame format. Change it with any incompatible change.
// Version 2: a response head's further values of a header come with an
// empty name (ResponseHead.Fields), and Length is set for every implicit
// head that End fixes; an End may ask for a Finished frame.
const Version = 2

// Handshake is the go-plugin handshake hostd and its plugins share. The
// cookie only keeps a plugin binary from being started by hand by mistake;
// it is not a security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  Version,
	MagicCookieKey:   "HOSTD_PLUGIN",
	MagicCookieValue: "8c1e6ad2-hostd-plugin",
}

// PluginName is the name of the one go-plugin plugin a process serves.
const PluginName = "hostd"

// DataPlaneFD is the descriptor number of the data-plane socket in a
// plugin process (the first of exec.Cmd.ExtraFiles).
const DataPlaneFD = 3

// EnvDataPlaneFD names the environment variable that tells a plugin its
// data-plane descriptor; its absence means the process was not started by
// hostd.
const EnvDataPlaneFD = "HOSTD_DATA_PLANE_FD"
