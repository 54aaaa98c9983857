package pluginhost

import "time"

// Spec says how to run a plugin. Two Specs that are equal run the same
// plugin; a change is applied by a swap.
type Spec struct {
	// Name is the plugin's name in the configuration.
	Name string
	// Cmd is the executable and Args its arguments. For a built-in plugin
	// Cmd is the host's own executable and Env selects the plugin.
	Cmd  string
	Args []string
	Env  []string
	// Config is the plugin's config table, as JSON.
	Config []byte
	// SHA256 is the expected hex digest of Cmd, checked before each start
	// (go-plugin SecureConfig); empty means no check.
	SHA256 string
	// RequestTimeout bounds the time a request may take to be answered;
	// past it the client gets 504. Zero means no limit.
	RequestTimeout time.Duration
	// MaxConcurrent bounds the requests in flight; past it the client gets
	// 503. Zero means no limit.
	MaxConcurrent int
	// RelaySockets makes upgrade and CONNECT sockets travel as frames
	// rather than descriptors.
	RelaySockets bool
	// RejectNonStandardBodyWrites mirrors the server option.
	RejectNonStandardBodyWrites bool
	// JoinDuplicateHeaders mirrors the server option.
	JoinDuplicateHeaders bool
	// StartTimeout bounds launching, handshake and configuration. Zero
	// means 10 s.
	StartTimeout time.Duration
	// DrainTimeout bounds the drain of a generation being replaced. Zero
	// means 30 s.
	DrainTimeout time.Duration
}

func (s *Spec) startTimeout() time.Duration {
	if s.StartTimeout > 0 {
		return s.StartTimeout
	}
	return 10 * time.Second
}

func (s *Spec) drainTimeout() time.Duration {
	if s.DrainTimeout > 0 {
		return s.DrainTimeout
	}
	return 30 * time.Second
}
