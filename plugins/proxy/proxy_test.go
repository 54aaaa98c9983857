package proxy_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/testutil"
)

// echoed is what the upstream's /echo answers.
type echoed struct {
	Name        string   `json:"name"`
	Method      string   `json:"method"`
	URL         string   `json:"url"`
	RawHeaders  []string `json:"rawHeaders"`
	RawTrailers []string `json:"rawTrailers"`
	Body        string   `json:"body"`
	BodyLength  int64    `json:"bodyLength"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}

func TestProxyForwardsMethodTargetAndFieldsAsTheyCame(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")

	res, _, _ := exchange(t, h, "GET /app/echo?q=%7E1&r=a;b HTTP/1.1\r\n"+
		"Host: front.example\r\n"+
		"X-A: 1\r\n"+
		"User-Agent: t\r\n"+
		"x-a: 2\r\n"+
		"Connection: keep-alive, X-Hop\r\n"+
		"X-Hop: secret\r\n"+
		"Keep-Alive: timeout=1\r\n"+
		"Proxy-Connection: keep-alive\r\n"+
		"TE: trailers, deflate\r\n"+
		"Upgrade: h2c\r\n"+
		"X-Forwarded-For: 10.0.0.1\r\n"+
		"X-Forwarded-Proto: https\r\n"+
		"X-Forwarded-Host: spoofed\r\n"+
		"\r\n", "GET")
	require.Equal(t, "HTTP/1.1 200 OK", res.status)
	e := decode[echoed](t, res.body)
	require.Equal(t, "GET", e.Method)
	require.Equal(t, "/app/echo?q=%7E1&r=a;b", e.URL, "the target's bytes are unchanged")
	require.Equal(t, []string{
		"Host", up.addr,
		"X-A", "1",
		"User-Agent", "t",
		"x-a", "2",
		"TE", "trailers",
		"X-Forwarded-For", "10.0.0.1, 127.0.0.1",
		"X-Forwarded-Proto", "http",
		"X-Forwarded-Host", "front.example",
		"Connection", "keep-alive",
	}, e.RawHeaders, "casing, order and repetition kept; hop-by-hop fields dropped; X-Forwarded-* added")

	// hostd frames the answer itself and adds these.
	hostdsOwn := map[string]bool{"Date": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Keep-Alive": true}
	var kept []string
	for _, l := range res.lines {
		if n, _, _ := strings.Cut(l, ": "); !hostdsOwn[n] {
			kept = append(kept, l)
		}
	}
	require.Equal(t, []string{
		"Content-Type: application/json",
		"Set-Cookie: a=1", "X-A: 1", "Set-Cookie: b=2", "x-a: 2",
		"X-MiXeD: m",
	}, kept, "the answer's fields as the upstream sent them, less Connection, X-Hop, Keep-Alive, Proxy-Connection, TE, Upgrade")
	require.Len(t, res.header("date"), 1, "the upstream's Date, not a second one")
	require.Equal(t, []string{"keep-alive"}, res.header("connection"), "hostd's own Connection")
	require.Equal(t, []string{"timeout=5"}, res.header("keep-alive"), "hostd's own Keep-Alive, not the upstream's")

	t.Run("a redirect reaches the client as it came, not followed", func(t *testing.T) {
		res, _, _ := exchange(t, h, "GET /app/redirect HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
		require.Equal(t, "HTTP/1.1 302 Found", res.status)
		require.Equal(t, []string{"/elsewhere"}, res.header("location"))
		require.Equal(t, "moved", res.body)
	})

	t.Run("a PUT body with its method", func(t *testing.T) {
		res, _, _ := exchange(t, h, "PUT /app/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello, body", "PUT")
		e := decode[echoed](t, res.body)
		require.Equal(t, "PUT", e.Method)
		require.Equal(t, "hello, body", e.Body)
		require.Contains(t, strings.Join(e.RawHeaders, "|"), "Content-Length|11")
	})

	t.Run("an HTTP/1.0 client without Host", func(t *testing.T) {
		res, _, _ := exchange(t, h, "DELETE /app/echo HTTP/1.0\r\n\r\n", "DELETE")
		e := decode[echoed](t, res.body)
		require.Equal(t, "DELETE", e.Method)
		require.Equal(t, []string{"Host", up.addr, "X-Forwarded-For", "127.0.0.1", "X-Forwarded-Proto", "http", "Connection", "keep-alive"}, e.RawHeaders)
	})
}

func TestProxyPreserveHostSendsTheClientsHost(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "preserve_host = true")
	res, _, _ := exchange(t, h, "GET /app/echo HTTP/1.1\r\nhost: front.example:8080\r\n\r\n", "GET")
	e := decode[echoed](t, res.body)
	require.Equal(t, []string{"host", "front.example:8080"}, e.RawHeaders[:2])
	require.Contains(t, strings.Join(e.RawHeaders, "|"), "X-Forwarded-Host|front.example:8080")
}

func TestProxyForwardedProtoIsHTTPSForAClientOverTLS(t *testing.T) {
	up := startUpstream(t, "node", "")
	cert := testutil.WriteCert(t, t.TempDir(), 1)
	tlsConfig := strings.Replace(proxyTOML(fmt.Sprintf("upstream = %q", "http://"+up.addr)), `listen = ["127.0.0.1:0"]`,
		fmt.Sprintf("listen = [\"127.0.0.1:0\", \"tls://127.0.0.1:0\"]\n[server.tls]\ncert_file = %q\nkey_file = %q", cert.CertFile, cert.KeyFile), 1)
	// One plain listener and one tls:// listener, in that order.
	h := hostdtest.Start(t, tlsConfig, hostdtest.WithBuiltins("proxy"))
	pool := x509.NewCertPool()
	pool.AddCert(cert.Cert)
	overTLS := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	for name, get := range map[string]func() (*http.Response, error){
		"http":  func() (*http.Response, error) { return h.Client.Get("http://" + h.Addrs()[0].String() + "/app/echo") },
		"https": func() (*http.Response, error) { return overTLS.Get("https://" + h.Addrs()[1].String() + "/app/echo") },
	} {
		res, err := get()
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode, string(body))
		e := decode[echoed](t, string(body))
		require.Contains(t, strings.Join(e.RawHeaders, "|"), "|X-Forwarded-Proto|"+name+"|", "a client over %s", name)
	}
}

// streamSize is what TestProxyStreamsBodiesBothWaysWithBoundedMemory moves
// each way: 100 MiB, or PROXY_STREAM_GIB GiB when set (issue 11 asks for
// 1 GiB; the default keeps the suite fast). Not HOSTD_…: hostd inherits
// the environment and would read that as a configuration key.
func streamSize(t *testing.T) int64 {
	v := os.Getenv("PROXY_STREAM_GIB")
	if v == "" {
		return 100 << 20
	}
	n, err := strconv.ParseInt(v, 10, 64)
	require.NoError(t, err, "PROXY_STREAM_GIB")
	require.Positive(t, n, "PROXY_STREAM_GIB")
	return n << 30
}

func TestProxyStreamsBodiesBothWaysWithBoundedMemory(t *testing.T) {
	size := streamSize(t)
	// bound is what hostd and the plugin may each hold at their peak
	// while the bodies pass: far less than a body, so nothing buffers it
	// whole, and the same whatever the size.
	const bound = 48 << 20
	up := startUpstream(t, "node", "")
	// The real hostd binary and the plugin's own executable, each a
	// process of its own, so that the peak RSS (VmHWM) of each can be
	// read from /proc: hostd in this test process would share its RSS,
	// and a builtin would be this test binary, instrumented under -race.
	hd := startHostdProcess(t, strings.Replace(proxyTOML(fmt.Sprintf("upstream = %q", "http://"+up.addr)),
		`builtin = "proxy"`, fmt.Sprintf("cmd = %q", filepath.Join(bin, "proxy")), 1))
	requirePeaks := func(t *testing.T, began time.Time) {
		t.Helper()
		host, plugin := hostdtest.PeakRSS(t, hd.pid), hostdtest.PeakRSS(t, hd.pluginPid(t, "proxy"))
		t.Logf("%d MiB in %v; peak RSS hostd %.1f MiB, proxy plugin %.1f MiB", size>>20, time.Since(began).Round(time.Millisecond),
			float64(host)/(1<<20), float64(plugin)/(1<<20))
		require.Less(t, host, uint64(bound), "hostd's peak RSS")
		require.Less(t, plugin, uint64(bound), "the plugin's peak RSS")
	}

	t.Run("an upload, chunked", func(t *testing.T) {
		began := time.Now()
		req, err := http.NewRequest("POST", "http://hostd/app/upload", io.LimitReader(&pattern{}, size))
		require.NoError(t, err)
		req.ContentLength = -1
		res, err := hd.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode, string(body))
		got := decode[struct {
			Bytes int64
			OK    bool
		}](t, string(body))
		require.EqualValues(t, size, got.Bytes)
		require.True(t, got.OK, "every byte arrived in order")
		requirePeaks(t, began)
	})

	t.Run("a download", func(t *testing.T) {
		began := time.Now()
		res, err := hd.client.Get("http://hostd/app/download?bytes=" + strconv.FormatInt(size, 10))
		require.NoError(t, err)
		defer res.Body.Close()
		n := hostdtest.ReadStreamPattern(t, res.Body)
		require.EqualValues(t, size, n)
		requirePeaks(t, began)
	})
}

func TestProxySlowClientSlowsTheUpstream(t *testing.T) {
	const size = 100 << 20
	up := startUpstream(t, "node", "")
	h := hostdtest.Start(t, strings.Replace(proxyTOML(fmt.Sprintf("upstream = %q", "http://"+up.addr)),
		`builtin = "proxy"`, fmt.Sprintf("cmd = %q", filepath.Join(bin, "proxy")), 1))
	c := h.Dial(t)
	_, err := io.WriteString(c, "GET /app/download?bytes="+strconv.Itoa(size)+" HTTP/1.1\r\nHost: h\r\n\r\n")
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	_, err = io.ReadFull(res.Body, make([]byte, 1<<20))
	require.NoError(t, err)
	// The client reads no more: the upstream ends up waiting for it,
	// with most of the body not sent.
	require.Eventually(t, func() bool { return up.stats(t).Download.Stalled }, 10*time.Second, 10*time.Millisecond)
	s := up.stats(t)
	require.Less(t, s.Download.Sent, int64(size/2), "the upstream sent past what the pipes hold")
	rss := hostdtest.PeakRSS(t, h.Plugin("proxy").Current().Pid())
	t.Logf("upstream stalled after %.1f MiB; plugin peak RSS %.1f MiB", float64(s.Download.Sent)/(1<<20), float64(rss)/(1<<20))
	require.Less(t, rss, uint64(48<<20))
	// Reading again lets the rest come.
	n, err := io.Copy(io.Discard, res.Body)
	require.NoError(t, err)
	require.EqualValues(t, size-(1<<20), n)
}

func TestProxyFailures(t *testing.T) {
	t.Run("an upstream that refuses the connection gives 502, logged", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		var log hostdtest.LogBuffer
		h := start(t, "http://"+addr, "", withLog(t, &log))
		h.Get(t, "/app/x").RequireStatus(502)
		requireLogged(t, &log, "upstream failed", "upstream=http://"+addr, "ECONNREFUSED")
	})

	t.Run("an upstream silent for the timeout gives 504, logged", func(t *testing.T) {
		up := startUpstream(t, "node", "")
		var log hostdtest.LogBuffer
		h := start(t, "http://"+up.addr, "timeout = 200", withLog(t, &log))
		h.Get(t, "/app/silent").RequireStatus(504)
		requireLogged(t, &log, "upstream failed", "upstream=http://"+up.addr, "status=504", "within the timeout")
	})

	t.Run("a malformed answer gives 502 and its connection is not pooled", func(t *testing.T) {
		addr := rawUpstream(t)
		var log hostdtest.LogBuffer
		h := start(t, "http://"+addr, "", withLog(t, &log))
		conn := 0
		next := func() {
			t.Helper()
			body := h.Get(t, "/app/ok").RequireStatus(200).Body
			conn++
			require.Equal(t, "conn="+strconv.Itoa(conn), body, "a new connection")
		}
		next()
		require.Equal(t, "conn=1", h.Get(t, "/app/ok").Body, "the connection is pooled")
		for _, tc := range []struct{ path, code string }{
			{"both", "HPE_INVALID_TRANSFER_ENCODING"},
			{"badchunk", "HPE_INVALID_CHUNK_SIZE"},
			{"badstatus", "HPE_INVALID_STATUS"},
		} {
			t.Run(tc.path, func(t *testing.T) {
				h.Get(t, "/app/"+tc.path).RequireStatus(502)
				requireLogged(t, &log, "upstream failed", "upstream=http://"+addr, "/app/"+tc.path, tc.code)
				next() // the bad connection was discarded
			})
		}
	})

	t.Run("an upstream closing mid-body cuts the client's connection", func(t *testing.T) {
		up := startUpstream(t, "node", "")
		var log hostdtest.LogBuffer
		h := start(t, "http://"+up.addr, "", withLog(t, &log))
		for _, path := range []string{"/app/cut", "/app/cutchunked"} {
			t.Run(path, func(t *testing.T) {
				res, err := h.Client.Get(h.URL + path)
				require.NoError(t, err)
				require.Equal(t, 200, res.StatusCode)
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a short answer must not look complete")
				require.Equal(t, "0123456789", string(b))
				requireLogged(t, &log, "cutting the client's connection", "upstream=http://"+up.addr, path)
			})
		}
	})
}

func TestProxyPoolHoldsMaxSockets(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "max_sockets = 4")
	// The upstream answers only once 4 requests are in flight together,
	// so the pool must reach 4 connections, and may not pass it.
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.Client.Get(h.URL + "/app/hold?n=4")
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != "released" {
				errs <- fmt.Errorf("%d %q", res.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	s := up.stats(t)
	require.Equal(t, 4, s.Max, "connections open together at the upstream")
	require.Equal(t, 4, s.Total, "the pool reused its connections")
}

func TestProxyRetriesIdempotentRequestsOnAStaleConnection(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")
	h.Get(t, "/app/drop").RequireStatus(200).RequireBody("node fresh connection")
	// The pooled connection is closed by the upstream as the GET arrives:
	// the GET goes again on a new one.
	h.Get(t, "/app/drop").RequireStatus(200).RequireBody("node fresh connection")
	require.Equal(t, 2, up.stats(t).Total)

	// A POST is not sent twice.
	res, err := h.Client.Post(h.URL+"/app/drop", "text/plain", strings.NewReader("once"))
	require.NoError(t, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	require.Equal(t, 502, res.StatusCode)
}

func TestProxyClientGoingAwayClosesTheUpstreamConnection(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")
	c := h.Dial(t)
	_, err := io.WriteString(c, "GET /app/download?bytes=104857600 HTTP/1.1\r\nHost: h\r\n\r\n")
	require.NoError(t, err)
	_, err = io.ReadFull(c, make([]byte, 1<<20))
	require.NoError(t, err)
	require.Equal(t, 1, up.stats(t).Open)
	c.Close()
	// The answer cannot be finished: its upstream connection is closed,
	// not pooled with a body still coming.
	require.Eventually(t, func() bool { return up.stats(t).Open == 0 }, 10*time.Second, 10*time.Millisecond)
}

func TestProxyClientGoingAwayBeforeTheAnswerClosesTheUpstreamConnection(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "") // the default timeout: 30 s
	c := h.Dial(t)
	_, err := io.WriteString(c, "GET /app/silent HTTP/1.1\r\nHost: h\r\n\r\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return up.stats(t).Open == 1 }, 10*time.Second, 10*time.Millisecond)
	c.Close()
	require.Eventually(t, func() bool { return up.stats(t).Open == 0 }, 10*time.Second, 10*time.Millisecond,
		"the upstream request is abandoned with its client")
}
