package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Config is the plugin's config table, [plugins.NAME.config] in hostd's
// TOML file.
type Config struct {
	// Name is the plugin's name in hostd's configuration.
	Name string
	raw  json.RawMessage
}

// Decode stores the table in v, a pointer to a struct or map, as
// encoding/json would: tag fields with `json:"key"`. Keys the struct does
// not know are refused, so that a typo in the TOML file is an error.
func (c *Config) Decode(v any) error {
	if len(c.raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("plugin %s: config: %w", c.Name, err)
	}
	return nil
}

// Raw returns the table as JSON.
func (c *Config) Raw() []byte { return c.raw }
