package hostd

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// The admin API's guard, as Caddy guards its own: a web page the
// operator visits must not drive it, and neither may another machine.
//
//   - Host must name the admin listener itself (its configured host,
//     127.0.0.1, [::1] or localhost, with the bound port): a page served
//     from a DNS name rebound to 127.0.0.1 sends its own name and is
//     refused (403).
//   - A request with an Origin is refused (403) unless the origin is the
//     listener's own: browsers send Origin on cross-origin POSTs, even the
//     "simple" text/plain ones that need no preflight. curl and hostd's
//     own `reload` command send none.
//   - State-changing endpoints take only POST (the mux answers 405).
//   - With a token ([admin] token_file or HOSTD_ADMIN_TOKEN) every
//     endpoint but the probes (/healthz, /readyz) requires
//     "Authorization: Bearer TOKEN" (401). A listener other machines can
//     reach must have one (config refuses it otherwise); on one bound to
//     every interface (0.0.0.0, ::) the Host check cannot know the
//     machine's names, and the token is the check.
//   - A Unix-socket listener (unix:/path) is created with mode 0600: the
//     file's permissions are the credential, and Host is not checked.

// adminNames are the Host values the admin listener answers to.
type adminNames struct {
	hosts  map[string]bool // lower-case host:port
	anyTCP bool            // bound to every interface: Host unchecked
	unix   bool
}

// namesOf lists the names of the listener configured as addr and bound
// at bound.
func namesOf(addr string, bound net.Addr) adminNames {
	if strings.HasPrefix(addr, "unix:") {
		return adminNames{unix: true}
	}
	n := adminNames{hosts: map[string]bool{}}
	_, port, _ := net.SplitHostPort(bound.String())
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		n.anyTCP = true
	} else {
		n.add(host, port)
	}
	for _, h := range []string{"127.0.0.1", "::1", "localhost"} {
		n.add(h, port)
	}
	return n
}

func (n adminNames) add(host, port string) {
	n.hosts[strings.ToLower(net.JoinHostPort(host, port))] = true
	if port == "80" {
		n.hosts[strings.ToLower(host)] = true
		if strings.Contains(host, ":") {
			n.hosts["["+host+"]"] = true
		}
	}
}

func (n adminNames) hostAllowed(host string) bool {
	return n.unix || n.anyTCP || n.hosts[strings.ToLower(host)]
}

// originAllowed accepts only the listener's own origin. A Unix socket
// has no web origin at all.
func (n adminNames) originAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || n.unix || u.Scheme != "http" || u.Path != "" {
		return false
	}
	return n.hosts[strings.ToLower(u.Host)]
}

// guard applies the checks above before mux.
func (a *adminServer) guard(h *Host, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.names.hostAllowed(r.Host) {
			http.Error(w, "admin API: Host "+r.Host+" is not this listener's name", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !a.names.originAllowed(origin) {
			http.Error(w, "admin API: cross-origin requests are refused", http.StatusForbidden)
			return
		}
		probe := r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
		if token := h.Config().Admin.Token; token != "" && !probe && !bearer(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hostd admin"`)
			http.Error(w, "admin API: a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// bearer reports whether r carries "Authorization: Bearer token", in
// constant time for the token.
func bearer(r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

// listenPrivateUnix listens on a Unix socket at path that only hostd's
// user can connect to (mode 0600). The socket is made under a temporary
// name, restricted, then renamed into place, so that it is never
// reachable at path with the umask's permissions.
func listenPrivateUnix(path string) (net.Listener, error) {
	_ = os.Remove(path)
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new")
	_ = os.Remove(tmp)
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // it would unlink tmp, which is gone
	if err := os.Chmod(tmp, 0o600); err != nil {
		ul.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		ul.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	return &unlinkOnClose{UnixListener: ul, path: path}, nil
}

// unlinkOnClose removes the socket file when the listener closes.
type unlinkOnClose struct {
	*net.UnixListener
	path string
}

func (l *unlinkOnClose) Close() error {
	err := l.UnixListener.Close()
	_ = os.Remove(l.path)
	return err
}
