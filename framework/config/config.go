// Package config loads and validates hostd's TOML configuration with
// koanf. A configuration that fails validation is refused whole, with an
// error naming the file, the key and the reason.
package config

import (
	"time"

	"github.com/hostd/hostd/protocol"
)

// Config is a validated configuration.
type Config struct {
	// File is where the configuration came from (a path, or a name such as
	// "embedded default").
	File string
	// Dir resolves relative paths: the folder of File.
	Dir string

	Server  Server
	Admin   Admin
	Log     Log
	Plugins map[string]Plugin
	Routes  []Route
}

// Server holds [server]: the listeners and Node's http.Server options in
// snake_case. Durations are milliseconds, as in Node, or strings such as
// "5s".
type Server struct {
	Listen                      []string      `koanf:"listen"`
	HeadersTimeout              time.Duration `koanf:"headers_timeout"`
	RequestTimeout              time.Duration `koanf:"request_timeout"`
	KeepAliveTimeout            time.Duration `koanf:"keep_alive_timeout"`
	Timeout                     time.Duration `koanf:"timeout"`
	MaxHeaderSize               int           `koanf:"max_header_size"`
	MaxHeadersCount             int           `koanf:"max_headers_count"`
	MaxRequestsPerSocket        int           `koanf:"max_requests_per_socket"`
	RequireHostHeader           bool          `koanf:"require_host_header"`
	JoinDuplicateHeaders        bool          `koanf:"join_duplicate_headers"`
	UniqueHeaders               []string      `koanf:"unique_headers"`
	NoDelay                     bool          `koanf:"no_delay"`
	KeepAlive                   bool          `koanf:"keep_alive"`
	KeepAliveInitialDelay       time.Duration `koanf:"keep_alive_initial_delay"`
	RejectNonStandardBodyWrites bool          `koanf:"reject_non_standard_body_writes"`
	// ClientError names the plugin that handles clientError events.
	ClientError string `koanf:"client_error"`
	// TimeoutPlugin names the plugin that handles the timeout event
	// (Node's server 'timeout', raised after Timeout of inactivity). Like
	// client_error it is named after its event, but "timeout" is already
	// Node's duration, hence the suffix.
	TimeoutPlugin string `koanf:"timeout_plugin"`
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// RequestID gives each request an X-Request-Id: the client's, when
	// sane, or a generated one.
	RequestID bool `koanf:"request_id"`
	// TLS holds [server.tls], the certificate of the "tls://" listeners.
	TLS TLS `koanf:"tls"`
}

// TLS holds [server.tls]. Both paths are resolved against Dir; the files
// are read again on every reload.
type TLS struct {
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
}

// TLSPrefix marks a listen address that serves TLS.
const TLSPrefix = "tls://"

// Log holds [log].
type Log struct {
	// Access logs a line per request.
	Access bool `koanf:"access"`
}

// Admin holds [admin]: the optional admin API.
type Admin struct {
	// Listen is the admin API's address ("127.0.0.1:9180" or
	// "unix:/path"); empty disables it.
	Listen string `koanf:"listen"`
	// TokenFile holds a bearer token the admin API then requires
	// (Authorization: Bearer TOKEN); HOSTD_ADMIN_TOKEN gives it instead.
	// A listener that is neither loopback nor a Unix socket needs one.
	TokenFile string `koanf:"token_file"`
	// Token is the token read from TokenFile or HOSTD_ADMIN_TOKEN; empty
	// means none.
	Token string `koanf:"-"`
}

// Plugin holds [plugins.NAME].
type Plugin struct {
	// Cmd is the executable, resolved against Dir. Builtin names a plugin
	// compiled into hostd instead; exactly one is set.
	Cmd     string            `koanf:"cmd"`
	Builtin string            `koanf:"builtin"`
	Args    []string          `koanf:"args"`
	Env     map[string]string `koanf:"env"`
	// Config is the free-form [plugins.NAME.config] table, as JSON.
	Config         []byte         `koanf:"-"`
	RawConfig      map[string]any `koanf:"config"`
	SHA256         string         `koanf:"sha256"`
	RequestTimeout time.Duration  `koanf:"request_timeout"`
	MaxConcurrent  int            `koanf:"max_concurrent"`
	RelaySockets   bool           `koanf:"relay_sockets"`
	StartTimeout   time.Duration  `koanf:"start_timeout"`
	DrainTimeout   time.Duration  `koanf:"drain_timeout"`
	// Watch swaps the plugin when its executable changes. Default true.
	Watch bool `koanf:"watch"`
	// MaxProcs is the plugin's GOMAXPROCS, unless Env sets it: 1 by
	// default, 0 for Go's default (every CPU). The host's engine already
	// spreads connections over every CPU; a plugin runtime on one
	// processor has no thread to wake for each request it hands to a
	// handler, which on small handlers is the larger cost.
	MaxProcs int `koanf:"max_procs"`
}

// Route holds one [[routes]] entry.
type Route struct {
	Path      string   `koanf:"path"`
	Host      string   `koanf:"host"`
	Methods   []string `koanf:"methods"`
	Events    []string `koanf:"events"`
	Authority string   `koanf:"authority"`
	Plugin    string   `koanf:"plugin"`
	// EventSet is Events parsed, set by validation.
	EventSet protocol.EventSet `koanf:"-"`
}

// defaults are Node's, and hostd's own.
func defaults() Server {
	return Server{
		Listen:            []string{"127.0.0.1:8080"},
		HeadersTimeout:    60 * time.Second,
		RequestTimeout:    300 * time.Second,
		KeepAliveTimeout:  5 * time.Second,
		MaxHeaderSize:     16 * 1024,
		MaxHeadersCount:   2000,
		RequireHostHeader: true,
		NoDelay:           true,
		ShutdownTimeout:   30 * time.Second,
	}
}
