package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hostd/hostd/internal/httpspec"
)

// Headers is Node's message.headers: lower-case names, each with the
// value Node's duplicate rules produce (set-cookie keeps a list).
type Headers = httpspec.Headers

// Options are the options of Node's http.request, with Go names. The
// zero value of each field is Node's default. URL, when set, is read
// first, and the other fields override what it gives.
type Options struct {
	// URL is a complete http: or https: URL ("http://user:pw@host:port/path?q").
	URL string

	Method   string // default GET
	Protocol string // "http:" (default) or "https:"
	Host     string // host name or IP; default localhost
	Hostname string // preferred over Host when both are set
	Port     int    // default 80 or 443
	Path     string // default "/", with the query string
	// Headers are set in order of their names, with the name's casing
	// kept; a name with several values is sent as several lines.
	Headers map[string][]string
	// RawHeaders is the raw-list form [name, value, name, value, ...]:
	// sent as given, in order, and the head is then fixed at once (Node's
	// array form): no Host or Authorization is added and the header
	// setters fail with ERR_HTTP_HEADERS_SENT.
	RawHeaders []string
	// Auth is "user:password" for Basic authentication; an explicit
	// Authorization header wins.
	Auth string

	// Agent pools the connection; nil means DefaultAgent. NoAgent makes a
	// one-off connection (Node's agent: false).
	Agent   *Agent
	NoAgent bool

	// Timeout is the connection's idle time after which OnTimeout is
	// reported (it does not end the request).
	Timeout time.Duration
	// OmitHost leaves out the Host header (Node's setHost: false).
	OmitHost bool
	// LocalAddress is the local IP to bind; Family 4 or 6 restricts the
	// address family; SocketPath connects to a Unix socket instead.
	LocalAddress string
	Family       int
	SocketPath   string
	// Lookup resolves Host to the address to dial (Node's lookup); nil
	// uses the system resolver.
	Lookup func(ctx context.Context, host string, family int) (string, error)
	// CreateConnection, when set, makes the connection instead of
	// dialling (Node's createConnection): for example a tunnel.
	CreateConnection func(ctx context.Context) (net.Conn, error)
	// TLSConfig is used for https: (nil: default settings, ServerName
	// from Host). It is part of the agent's pool key, as Node's TLS
	// options are: pass the same *tls.Config to share connections.
	TLSConfig *tls.Config

	// MaxHeaderSize limits the response head (default 16 KiB);
	// MaxHeadersCount the number of fields read into Headers (default
	// 2000, 0 below means the default). JoinDuplicateHeaders joins
	// repeated fields that Node otherwise drops; UniqueHeaders lists
	// names sent as one line joined with "; ".
	MaxHeaderSize        int
	MaxHeadersCount      int
	JoinDuplicateHeaders bool
	UniqueHeaders        []string

	// ChunkedEncoding (Electron): true sends the body chunked; false
	// keeps it until End and sends it with Content-Length. nil follows
	// Node: chunked when written before End without a Content-Length.
	ChunkedEncoding *bool
	// Redirect (Electron's redirect mode) and MaxRedirects (default 20).
	Redirect     RedirectMode
	MaxRedirects int

	Events Events
}

// target is where and how a request connects, and its pool key.
type target struct {
	tls          bool
	host         string // without brackets
	port         int
	localAddress string
	family       int
	socketPath   string
	lookup       func(ctx context.Context, host string, family int) (string, error)
	tlsConfig    *tls.Config
	create       func(ctx context.Context) (net.Conn, error)
}

// name is Node's agent.getName: host:port:localAddress[:family], with the
// socket path, and for TLS what makes a TLS session reusable.
func (t *target) name() string {
	var b strings.Builder
	b.WriteString(t.host)
	b.WriteByte(':')
	if t.port != 0 {
		b.WriteString(strconv.Itoa(t.port))
	}
	b.WriteByte(':')
	b.WriteString(t.localAddress)
	if t.family == 4 || t.family == 6 {
		b.WriteString(":" + strconv.Itoa(t.family))
	}
	if t.socketPath != "" {
		b.WriteString(":" + t.socketPath)
	}
	if t.tls {
		// Node adds the TLS options (ca, cert, servername, ...); a
		// *tls.Config stands for all of them.
		b.WriteString(":tls:" + t.serverName())
		if t.tlsConfig != nil {
			b.WriteString(fmt.Sprintf(":%p", t.tlsConfig))
		}
	}
	return b.String()
}

func (t *target) serverName() string {
	if t.tlsConfig != nil && t.tlsConfig.ServerName != "" {
		return t.tlsConfig.ServerName
	}
	if net.ParseIP(t.host) != nil {
		return ""
	}
	return t.host
}

// resolved is what NewRequest derives from Options.
type resolved struct {
	target
	method, path, hostHeader, auth string
}

// resolve merges URL and the other fields as http.request does.
func (o *Options) resolve() (*resolved, error) {
	r := &resolved{method: "GET", path: "/"}
	protocol, host, port, path, auth := "http:", "", 0, "", ""
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil || u.Host == "" {
			return nil, &Error{Code: CodeInvalidURL, Message: "Invalid URL", Err: err}
		}
		protocol, host = u.Scheme+":", u.Hostname()
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return nil, &Error{Code: CodeInvalidURL, Message: "Invalid URL"}
			}
			port = n
		}
		path = u.RequestURI()
		if u.User != nil {
			pw, _ := u.User.Password()
			auth = u.User.Username() + ":" + pw
		}
	}
	if o.Protocol != "" {
		protocol = o.Protocol
	}
	switch protocol {
	case "http:":
	case "https:":
		r.tls = true
	default:
		return nil, &Error{Code: CodeInvalidProto, Message: "Protocol \"" + protocol + "\" not supported. Expected \"http:\""}
	}
	if o.Host != "" {
		host = o.Host
	}
	if o.Hostname != "" {
		host = o.Hostname
	}
	if host == "" {
		host = "localhost"
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if o.Port != 0 {
		port = o.Port
	}
	defPort := 80
	if r.tls {
		defPort = 443
	}
	if port == 0 {
		port = defPort
	}
	if o.Path != "" {
		path = o.Path
	}
	if path != "" {
		r.path = path
	}
	for i := 0; i < len(r.path); i++ {
		if c := r.path[i]; c <= ' ' || c == 0x7f {
			return nil, &Error{Code: "ERR_UNESCAPED_CHARACTERS", Message: "Request path contains unescaped characters"}
		}
	}
	if o.Method != "" {
		if !httpspec.IsToken(o.Method) {
			return nil, specError(httpspec.CodeInvalidHTTPToken, "Method must be a valid HTTP token [%q]", o.Method)
		}
		r.method = strings.ToUpper(o.Method)
	}
	if o.Auth != "" {
		auth = o.Auth
	}
	r.auth = auth
	r.host, r.port = host, port
	r.localAddress, r.family, r.socketPath = o.LocalAddress, o.Family, o.SocketPath
	r.lookup, r.tlsConfig, r.create = o.Lookup, o.TLSConfig, o.CreateConnection
	// The Host header: the port only when it is not the default one, an
	// IPv6 address in brackets.
	hh := host
	if strings.Contains(hh, ":") {
		hh = "[" + hh + "]"
	}
	if port != defPort {
		hh += ":" + strconv.Itoa(port)
	}
	r.hostHeader = hh
	return r, nil
}

// sortedNames returns the keys of m in order, so that a map of headers
// is sent the same way every time.
func sortedNames(m map[string][]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
