package protocol

// NewDecoder returns a Decoder on p, for tests of its sticky errors.
func NewDecoder(p []byte) *Decoder { return &Decoder{b: p} }

// ParseHeader exposes parseHeader.
var ParseHeader = parseHeader
