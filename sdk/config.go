package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
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
	err := dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field != "":
		return &ConfigError{Plugin: c.Name, Key: te.Field, Reason: "a " + te.Value + " where " + te.Type.String() + " is expected", Err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		key, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &ConfigError{Plugin: c.Name, Key: key, Reason: "unknown key", Err: err}
	}
	return &ConfigError{Plugin: c.Name, Reason: err.Error(), Err: err}
}

// ConfigError refuses a configuration, naming the key at fault (a dotted
// path in the table), so that hostd reports it as plugins.NAME.config.KEY
// with its file. Decode returns one; Configure may return its own:
//
//	return &sdk.ConfigError{Key: "dial_timeout", Reason: "must be positive"}
type ConfigError struct {
	Plugin string // the plugin's name; Decode sets it
	Key    string // empty when the refusal is about no one key
	Reason string
	Err    error // the cause, if any
}

func (e *ConfigError) Error() string {
	s := "config"
	if e.Key != "" {
		s += "." + e.Key
	}
	s += ": " + e.Reason
	if e.Plugin != "" {
		s = "plugin " + e.Plugin + ": " + s
	}
	return s
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Raw returns the table as JSON.
func (c *Config) Raw() []byte { return c.raw }
