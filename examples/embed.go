// Package examples holds hostd's example configurations; the default one
// is embedded in the hostd executable.
package examples

import _ "embed"

// DefaultConfig is hostd.toml, the configuration hostd serves without
// -config.
//
//go:embed hostd.toml
var DefaultConfig []byte
