package protocol

// NewDecoder returns a decoder on p, for tests of its sticky errors.
func NewDecoder(p []byte) *decoder { return &decoder{b: p} }

// ParseHeader exposes parseHeader.
var ParseHeader = parseHeader
