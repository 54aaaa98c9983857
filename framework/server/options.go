package server

import (
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/internal/httpspec"
)

// Options configures a Server. Its zero value is Node's http.createServer()
// defaults; each field carries Node's option name in its comment.
type Options struct {
	// HeadersTimeout (headersTimeout) bounds the time to receive a complete
	// request head; past it the client gets 408. Zero means 60 s; a
	// negative value disables it.
	HeadersTimeout time.Duration
	// RequestTimeout (requestTimeout) bounds the time to receive a whole
	// request, body included; past it the client gets 408. Zero means
	// 300 s; a negative value disables it.
	RequestTimeout time.Duration
	// KeepAliveTimeout (keepAliveTimeout) is how long an idle keep-alive
	// connection waits for its next request. Zero means 5 s; a negative
	// value disables it.
	KeepAliveTimeout time.Duration
	// Timeout (timeout) is the socket inactivity timeout that raises the
	// timeout event. Zero, Node's default, disables it.
	Timeout time.Duration

	// MaxHeaderSize (maxHeaderSize) limits the request head; past it the
	// client gets 431. Zero means 16 KiB.
	MaxHeaderSize int
	// MaxHeadersCount (maxHeadersCount) limits how many fields reach
	// Headers and RawHeaders (not the trailers, as in Node); further ones
	// are ignored. Zero means 2000; a negative value means no limit.
	MaxHeadersCount int
	// MaxRequestsPerSocket (maxRequestsPerSocket): after this many requests
	// on one connection the response says Connection: close, and requests
	// beyond it get 503 and raise DropRequest. Zero means no limit.
	MaxRequestsPerSocket int

	// DisableHostHeaderCheck turns off requireHostHeader, which answers 400
	// to an HTTP/1.1 request without Host.
	DisableHostHeaderCheck bool
	// JoinDuplicateHeaders (joinDuplicateHeaders) joins repeated fields of
	// the keep-first kind (host, content-type, …) with ", " instead of
	// dropping all but the first.
	JoinDuplicateHeaders bool
	// UniqueHeaders (uniqueHeaders) lists response headers that are sent
	// once, their values joined with "; ".
	UniqueHeaders []string
	// RejectNonStandardBodyWrites (rejectNonStandardBodyWrites) makes a
	// body write to a HEAD, 204 or 304 response fail with
	// ERR_HTTP_BODY_NOT_ALLOWED instead of being dropped.
	RejectNonStandardBodyWrites bool

	// DisableNoDelay turns off TCP_NODELAY (noDelay, on by default).
	DisableNoDelay bool
	// KeepAlive (keepAlive) turns on TCP keep-alive probes, the first after
	// KeepAliveInitialDelay (keepAliveInitialDelay; zero: the OS default).
	KeepAlive             bool
	KeepAliveInitialDelay time.Duration

	// RequestID gives every request an X-Request-Id header field: the
	// client's when it sent one sane token (see RequestID), else a
	// generated one unique to the process. Not a Node option.
	RequestID bool

	// Handlers are the server's event listeners.
	Handlers Handlers

	// Logger receives the server's diagnostics. Nil means no logging.
	Logger hclog.Logger
}

// config is Options with defaults applied and durations ready to compare.
type config struct {
	Options
	headersTimeout, requestTimeout, keepAliveTimeout time.Duration
	maxHeadersCount                                  int
	unique                                           map[string]bool
}

func newConfig(o Options) *config {
	c := &config{Options: o}
	c.headersTimeout = pick(o.HeadersTimeout, 60*time.Second)
	c.requestTimeout = pick(o.RequestTimeout, 300*time.Second)
	c.keepAliveTimeout = pick(o.KeepAliveTimeout, 5*time.Second)
	if o.Timeout < 0 {
		c.Timeout = 0
	}
	switch {
	case o.MaxHeadersCount == 0:
		c.maxHeadersCount = 2000
	case o.MaxHeadersCount > 0:
		c.maxHeadersCount = o.MaxHeadersCount
	}
	if len(o.UniqueHeaders) > 0 {
		c.unique = make(map[string]bool, len(o.UniqueHeaders))
		for _, h := range o.UniqueHeaders {
			c.unique[httpspec.ToLower(h)] = true
		}
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	return c
}

// pick returns def for zero, 0 (disabled) for a negative d, else d.
func pick(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}
