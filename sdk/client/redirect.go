package client

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/hostd/hostd/internal/outgoing"
)

// RedirectMode is Electron's redirect option. The zero value,
// RedirectManual, is Node's behaviour: a redirect is an ordinary response.
type RedirectMode uint8

const (
	RedirectManual RedirectMode = iota // deliver redirects as responses
	RedirectFollow                     // follow up to MaxRedirects (default 20)
	RedirectError                      // fail the request (ERR_REDIRECT_MODE)
)

// Redirect is what OnRedirect reports (Electron's 'redirect' event).
type Redirect struct {
	StatusCode      int
	Method          string // the method the redirected request will use
	RedirectURL     string
	ResponseHeaders Headers
}

// AuthInfo is what OnLogin reports (Electron's 'login' event authInfo).
type AuthInfo struct {
	IsProxy bool
	Scheme  string // lower case: "basic" or "digest"
	Host    string
	Port    int
	Realm   string
}

// ErrRedirectCancelled is the error of a request whose redirect was not
// followed from OnRedirect: the request is cancelled, as in Electron.
var ErrRedirectCancelled = &Error{Code: "ERR_REDIRECT_CANCELLED", Message: "Redirect was cancelled"}

// FollowRedirect follows the redirect being reported; it is only valid
// inside OnRedirect (Electron's request.followRedirect).
func (r *ClientRequest) FollowRedirect() {
	r.mu.Lock()
	r.followed = true
	r.mu.Unlock()
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// electron applies the redirect and login rules to a final response; it
// reports true when it took the response over (the request restarts or
// failed).
func (r *ClientRequest) electron(s *Socket, res *IncomingMessage, b *body) bool {
	code := res.StatusCode
	loc := res.Headers.Get("location")
	if isRedirect(code) && loc != "" && (r.ev.OnRedirect != nil || r.opts.Redirect != RedirectManual) {
		return r.redirect(s, res, loc)
	}
	if (code == 401 || code == 407) && r.ev.OnLogin != nil {
		return r.login(s, res)
	}
	return false
}

func (r *ClientRequest) redirect(s *Socket, res *IncomingMessage, loc string) bool {
	r.mu.Lock()
	base := url.URL{Scheme: strings.TrimSuffix(r.protocol, ":"), Host: r.hostPort(), Path: r.path}
	if p, err := url.Parse(r.path); err == nil {
		base.Path, base.RawQuery = p.Path, p.RawQuery
	}
	count, ended := r.redirects, r.ended
	r.mu.Unlock()
	next, err := base.Parse(loc)
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
		r.agent.remove(s)
		r.fail(&Error{Code: CodeInvalidURL, Message: "Invalid redirect URL", Err: err})
		return true
	}
	method := r.method
	if res.StatusCode == 303 && method != "HEAD" || (res.StatusCode == 301 || res.StatusCode == 302) && method == "POST" {
		method = "GET"
	}
	if r.ev.OnRedirect != nil {
		done := make(chan struct{})
		info := &Redirect{StatusCode: res.StatusCode, Method: method, RedirectURL: next.String(), ResponseHeaders: res.Headers}
		r.emit(func() {
			defer close(done)
			r.ev.OnRedirect(info)
		})
		<-done
		r.mu.Lock()
		followed := r.followed
		r.followed = false
		r.mu.Unlock()
		if !followed {
			r.cancel(s)
			return true
		}
	} else if r.opts.Redirect == RedirectError {
		r.agent.remove(s)
		r.fail(&Error{Code: CodeRedirectMode, Message: "Redirect was cancelled (redirect mode: error)"})
		return true
	}
	limit := r.opts.MaxRedirects
	if limit <= 0 {
		limit = 20
	}
	switch {
	case count >= limit:
		r.agent.remove(s)
		r.fail(&Error{Code: CodeRedirect, Message: "Maximum number of redirects exceeded"})
		return true
	case !ended:
		r.agent.remove(s)
		r.fail(&Error{Code: CodeRedirect, Message: "Redirect before the request body was ended"})
		return true
	}
	return r.restart(s, next, method, "", "")
}

// cancel ends a request whose redirect was not followed: 'abort', then
// 'close'.
func (r *ClientRequest) cancel(s *Socket) {
	r.mu.Lock()
	r.destroyed = true
	r.mu.Unlock()
	r.agent.remove(s)
	r.emit(func() {
		if r.ev.OnAbort != nil {
			r.ev.OnAbort()
		}
	})
	r.close(ErrRedirectCancelled)
}

func (r *ClientRequest) login(s *Socket, res *IncomingMessage) bool {
	proxy := res.StatusCode == 407
	field := "www-authenticate"
	if proxy {
		field = "proxy-authenticate"
	}
	ch, ok := pickChallenge(res.HeadersDistinct[field])
	if !ok {
		return false
	}
	info := &AuthInfo{IsProxy: proxy, Scheme: ch.scheme, Host: r.host, Port: r.port, Realm: ch.params["realm"]}
	var user, pass string
	done := make(chan struct{})
	r.emit(func() {
		defer close(done)
		user, pass, ok = r.ev.OnLogin(info)
	})
	<-done
	r.mu.Lock()
	ended := r.ended
	r.mu.Unlock()
	if !ok || !ended {
		return false
	}
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	cur := url.URL{Scheme: strings.TrimSuffix(r.protocol, ":"), Host: r.hostPort()}
	if p, err := url.Parse(r.path); err == nil {
		cur.Path, cur.RawQuery = p.Path, p.RawQuery
	}
	return r.restart(s, &cur, r.method, name, ch.credentials(r.method, r.path, user, pass))
}

func (r *ClientRequest) hostPort() string {
	h := r.host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(r.port)
}

// restart sends the request again to u with method (and the header
// name: value when name is set) on a connection of the agent: the same
// headers, the body as written, Authorization and Cookie dropped when the
// origin changes, the body dropped when the method becomes GET.
func (r *ClientRequest) restart(s *Socket, u *url.URL, method, name, value string) bool {
	r.agent.remove(s)
	o := r.opts
	o.URL, o.Host, o.Hostname, o.Port, o.Path, o.Protocol, o.Method = u.String(), "", "", 0, "", "", method
	rs, err := o.resolve()
	if err != nil {
		r.fail(err)
		return true
	}
	r.mu.Lock()
	if r.stage != stageSocket || r.destroyed {
		r.mu.Unlock()
		return true
	}
	// A new message with the same headers, changed as the new target
	// needs: its head goes out again.
	fields := make([]string, 0, 2*r.msg.Header.Len())
	for i := 0; i < r.msg.Header.Len(); i++ {
		n, v, cont := r.msg.Header.Field(i)
		if cont {
			n = ""
		}
		fields = append(fields, n, v)
	}
	strict := r.msg.StrictContentLength
	r.msg = outgoing.Message{}
	r.msg.Reset()
	r.msg.SendDate, r.msg.KeepAlive, r.msg.StrictContentLength = false, r.shouldKeepAlive, strict
	r.msg.ChunkedByDefault = chunkedByDefault(method)
	_ = r.msg.Load(fields) // validated when they were set
	if rs.host != r.host || rs.port != r.port || rs.tls != r.tls {
		for _, h := range []string{"authorization", "cookie", "proxy-authorization"} {
			_ = r.msg.RemoveHeader(h)
		}
	}
	if r.msg.Header.Has("host") && !o.OmitHost {
		_ = r.msg.SetHeader("Host", rs.hostHeader)
	}
	if name != "" {
		_ = r.msg.SetHeader(name, value)
	}
	bodyBytes := r.replay
	if method != r.method {
		bodyBytes = nil
		for _, h := range []string{"content-length", "content-type", "transfer-encoding"} {
			_ = r.msg.RemoveHeader(h)
		}
	} else if len(bodyBytes) > 0 {
		_ = r.msg.RemoveHeader("transfer-encoding")
		_ = r.msg.SetHeader("Content-Length", strconv.Itoa(len(bodyBytes)))
	}
	r.target, r.name, r.method, r.path, r.host = rs.target, rs.name(), method, rs.path, rs.host
	if r.tls {
		r.protocol = "https:"
	} else {
		r.protocol = "http:"
	}
	r.forceChunked = nil
	r.pending, r.pendingBody, r.uploaded, r.replay = nil, 0, 0, nil
	length := int64(-1)
	if len(bodyBytes) > 0 || r.msg.ChunkedByDefault {
		length = int64(len(bodyBytes))
	}
	if err := r.fixHeadLocked(length); err != nil {
		r.mu.Unlock()
		r.fail(err)
		return true
	}
	if err := r.bodyLocked(bodyBytes, true); err != nil {
		r.mu.Unlock()
		r.fail(err)
		return true
	}
	r.msg.Finish()
	r.pending = r.msg.AppendEnd(r.pending)
	r.stage, r.socket, r.connected, r.reused = stageQueued, nil, false, false
	r.redirects++
	r.mu.Unlock()
	r.agent.addRequest(r)
	return true
}
