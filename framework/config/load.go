package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/v2"
	gotoml "github.com/pelletier/go-toml/v2"
)

// EnvPrefix starts the environment variables that override keys. A
// double underscore separates key levels, so HOSTD_SERVER__KEEP_ALIVE_TIMEOUT
// sets server.keep_alive_timeout; lists are comma-separated.
const EnvPrefix = "HOSTD_"

// Options configures Load.
type Options struct {
	// Builtins lists the built-in plugin names the host knows.
	Builtins []string
	// Environ is the environment to take overrides from; nil means
	// os.Environ().
	Environ []string
}

// Error is a refused configuration: the file, the key and the reason.
type Error struct {
	File, Key, Reason string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.File + ": " + e.Reason
	}
	return e.File + ": " + e.Key + ": " + e.Reason
}

// LoadFile reads and validates the configuration at path.
func LoadFile(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Reason: err.Error()}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Reason: err.Error()}
	}
	return Load(data, path, filepath.Dir(abs), opts)
}

// Load validates the configuration in data. name is used in errors and
// dir resolves relative paths.
func Load(data []byte, name, dir string, opts Options) (*Config, error) {
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	overrides := envList(environ)
	c, err := load(data, name, dir, opts, overrides)
	if err != nil {
		return nil, overrides.name(err)
	}
	return c, nil
}

func load(data []byte, name, dir string, opts Options, overrides envList) (*Config, error) {
	k := koanf.New(".")
	if err := k.Load(rawBytes(data), toml.Parser()); err != nil {
		return nil, tomlError(name, err)
	}
	if err := k.Load(overrides, nil); err != nil {
		return nil, &Error{File: name, Reason: "environment: " + err.Error()}
	}
	if err := checkKeys(k, name); err != nil {
		return nil, err
	}
	c := &Config{File: name, Dir: dir, Server: defaults(), Plugins: map[string]Plugin{}}
	if err := decode(k, "server", &c.Server, name); err != nil {
		return nil, err
	}
	if err := decode(k, "admin", &c.Admin, name); err != nil {
		return nil, err
	}
	if err := decode(k, "log", &c.Log, name); err != nil {
		return nil, err
	}
	for _, pname := range k.MapKeys("plugins") {
		p := Plugin{Watch: true, MaxProcs: 1}
		if err := decode(k, "plugins."+pname, &p, name); err != nil {
			return nil, err
		}
		c.Plugins[pname] = p
	}
	for i, rk := range k.Slices("routes") {
		var r Route
		if err := decode(rk, "", &r, name); err != nil {
			var ce *Error
			if errors.As(err, &ce) {
				ce.Key = fmt.Sprintf("routes[%d]", i) + strings.TrimPrefix("."+ce.Key, ".")
			}
			return nil, err
		}
		c.Routes = append(c.Routes, r)
	}
	if err := c.readToken(overrides.lookup(EnvAdminToken)); err != nil {
		return nil, err
	}
	if err := c.validate(opts); err != nil {
		return nil, err
	}
	return c, nil
}

// tomlError reports a syntax error with its line and column.
func tomlError(file string, err error) error {
	var de *gotoml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return &Error{File: fmt.Sprintf("%s:%d:%d", file, row, col), Reason: "not valid TOML: " + de.Error()}
	}
	return &Error{File: file, Reason: "not valid TOML: " + err.Error()}
}

// rawBytes is a koanf provider of bytes already read.
type rawBytes []byte

func (b rawBytes) ReadBytes() ([]byte, error)    { return b, nil }
func (b rawBytes) Read() (map[string]any, error) { return nil, errors.New("rawBytes needs a parser") }

// EnvAdminToken gives the admin API's bearer token. It is not a key
// override: the token never appears in the configuration.
const EnvAdminToken = EnvPrefix + "ADMIN_TOKEN"

// envKey maps HOSTD_A__B_C=v to the key a.b_c.
func envKey(name, value string) (string, any) {
	key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "__", "."))
	if strings.Contains(value, ",") || isListKey(key) {
		parts := strings.Split(value, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return key, parts
	}
	return key, scalar(value)
}

// scalar types a value from the environment as TOML would: integers,
// booleans, else a string. Typed [server] fields convert strings anyway;
// this matters for free-form plugin config tables.
func scalar(v string) any {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
		return b
	}
	return v
}

// isListKey reports whether key holds a list, so that a single value
// from the environment becomes a one-item list.
func isListKey(key string) bool {
	last := key[strings.LastIndexByte(key, '.')+1:]
	switch last {
	case "listen", "unique_headers", "args":
		return key != "admin.listen"
	}
	return false
}

// envList is the environment the overrides come from.
type envList []string

func (e envList) ReadBytes() ([]byte, error) { return nil, errors.New("envList has no bytes") }
func (e envList) Read() (map[string]any, error) {
	m := map[string]any{}
	for _, kv := range e {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || name == EnvAdminToken {
			continue
		}
		key, v := envKey(name, value)
		m[key] = v
	}
	return unflatten(m), nil
}

// lookup returns the value of the variable name.
func (e envList) lookup(name string) string {
	for _, kv := range e {
		if n, v, ok := strings.Cut(kv, "="); ok && n == name {
			return v
		}
	}
	return ""
}

// name adds, to a refusal about a key an override set, the variable that
// set it: the file alone would not explain the value.
func (e envList) name(err error) error {
	var ce *Error
	if !errors.As(err, &ce) || ce.Key == "" {
		return err
	}
	key := indices.ReplaceAllString(ce.Key, "")
	for _, kv := range e {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || name == EnvAdminToken {
			continue
		}
		k, _ := envKey(name, value)
		if k == key || strings.HasPrefix(key, k+".") {
			ce.Reason += " (set by the environment variable " + name + ")"
			return err
		}
	}
	return err
}

// indices matches the list positions in a key such as server.listen[1].
var indices = regexp.MustCompile(`\[\d+\]`)

// unflatten turns {"a.b": v} into {"a": {"b": v}}.
func unflatten(m map[string]any) map[string]any {
	out := map[string]any{}
	for key, v := range m {
		parts := strings.Split(key, ".")
		cur := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		cur[parts[len(parts)-1]] = v
	}
	return out
}

// decode unmarshals the keys under path into out, refusing values of the
// wrong type with the key's name.
func decode(k *koanf.Koanf, path string, out any, file string) error {
	err := k.UnmarshalWithConf(path, out, koanf.UnmarshalConf{
		Tag: "koanf",
		DecoderConfig: &mapstructure.DecoderConfig{
			DecodeHook:       mapstructure.ComposeDecodeHookFunc(durationHook, mapstructure.StringToSliceHookFunc(",")),
			Result:           out,
			WeaklyTypedInput: true,
			TagName:          "koanf",
		},
	})
	if err != nil {
		sub, reason := cleanDecodeError(err)
		key := path
		if sub != "" {
			key = strings.TrimPrefix(path+"."+sub, ".")
		}
		return &Error{File: file, Key: key, Reason: reason}
	}
	return nil
}

// cleanDecodeError turns mapstructure's report into the key it is about
// and a one-line reason.
func cleanDecodeError(err error) (key, reason string) {
	s := strings.Join(strings.Fields(err.Error()), " ")
	s = strings.TrimPrefix(s, "decoding failed due to the following error(s): ")
	if rest, ok := strings.CutPrefix(s, "'"); ok {
		if k, r, ok := strings.Cut(rest, "' "); ok {
			return k, r
		}
	}
	return "", s
}

// durationHook reads a duration as Node's milliseconds (a number) or as a
// Go duration string ("5s", "250ms").
func durationHook(from, to reflect.Type, v any) (any, error) {
	if to != reflect.TypeOf(time.Duration(0)) {
		return v, nil
	}
	switch x := v.(type) {
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case int:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return time.Duration(n) * time.Millisecond, nil
		}
		d, err := time.ParseDuration(x)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration (milliseconds, or a string such as \"5s\")", x)
		}
		return d, nil
	}
	return v, nil
}
