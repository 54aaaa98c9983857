package client_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk/client"
)

func TestRedirectsAgainstNode(t *testing.T) {
	addr := startNode(t)
	ctx := context.Background()
	url := func(n, code int) string { return fmt.Sprintf("http://%s/redirect?n=%d&code=%d", addr, n, code) }

	t.Run("manual by default, as Node", func(t *testing.T) {
		res, err := client.Get(ctx, url(2, 302), &client.Options{NoAgent: true})
		require.NoError(t, err)
		require.Equal(t, 302, res.StatusCode)
		require.Equal(t, "/redirect?n=1&code=302", res.Headers.Get("location"))
		readAll(t, res)
	})
	t.Run("a chain followed from the redirect event", func(t *testing.T) {
		var seen []client.Redirect
		var req *client.ClientRequest
		ready := make(chan struct{})
		req, err := client.NewRequest(ctx, client.Options{URL: url(3, 307), Method: "POST", NoAgent: true,
			Events: client.Events{OnRedirect: func(r *client.Redirect) {
				<-ready
				seen = append(seen, *r)
				req.FollowRedirect()
			}}})
		close(ready)
		require.NoError(t, err)
		require.NoError(t, req.End([]byte("kept across 307")))
		res, err := req.Response(ctx)
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
		require.JSONEq(t, `{"method":"POST","body":"kept across 307"}`, readAll(t, res))
		require.Len(t, seen, 3)
		require.Equal(t, 307, seen[0].StatusCode)
		require.Equal(t, "POST", seen[0].Method)
		require.Equal(t, fmt.Sprintf("http://%s/redirect?n=2&code=307", addr), seen[0].RedirectURL)
		require.Equal(t, "/redirect?n=2&code=307", seen[0].ResponseHeaders.Get("location"))
		require.Equal(t, "/redirect?n=0&code=307", req.Path())
	})
	t.Run("a 303 turns POST into GET without a body", func(t *testing.T) {
		res, err := client.Do(ctx, client.Options{URL: url(1, 303), Method: "POST", NoAgent: true, Redirect: client.RedirectFollow},
			nil)
		require.NoError(t, err)
		require.JSONEq(t, `{"method":"GET","body":""}`, readAll(t, res))
	})
	t.Run("not followed: cancelled", func(t *testing.T) {
		events := make(chan string, 8)
		req, err := client.NewRequest(ctx, client.Options{URL: url(2, 302), NoAgent: true, Events: client.Events{
			OnRedirect: func(*client.Redirect) { events <- "redirect" },
			OnAbort:    func() { events <- "abort" },
			OnError:    func(error) { events <- "error" },
			OnClose:    func() { events <- "close" },
		}})
		require.NoError(t, err)
		require.NoError(t, req.End(nil))
		_, err = req.Response(ctx)
		require.ErrorIs(t, err, client.ErrRedirectCancelled)
		require.Equal(t, "redirect", recv(t, events, "redirect"))
		require.Equal(t, "abort", recv(t, events, "abort"))
		require.Equal(t, "close", recv(t, events, "close"))
	})
	t.Run("credentials do not follow to another origin", func(t *testing.T) {
		port := fmt.Sprint(portOf(t, addr))
		for _, tc := range []struct {
			to       string
			keepAuth bool
		}{{"http://127.0.0.1:" + port + "/echo", true}, {"http://localhost:" + port + "/echo", false}} {
			res, err := client.Get(ctx, "http://"+addr+"/elsewhere?to="+tc.to, &client.Options{NoAgent: true, Redirect: client.RedirectFollow, Family: 4,
				Headers: map[string][]string{"Authorization": {"Bearer secret"}, "Cookie": {"a=1"}, "X-Other": {"kept"}}})
			require.NoError(t, err)
			e := decodeEcho(t, res)
			require.Contains(t, e.RawHeaders, "X-Other")
			require.Equal(t, tc.keepAuth, slices.Contains(e.RawHeaders, "Authorization"), tc.to)
			require.Equal(t, tc.keepAuth, slices.Contains(e.RawHeaders, "Cookie"), tc.to)
			require.Contains(t, e.RawHeaders, strings.TrimSuffix(strings.TrimPrefix(tc.to, "http://"), "/echo"), "Host follows the redirect")
		}
	})
	t.Run("mode error", func(t *testing.T) {
		_, err := client.Get(ctx, url(1, 301), &client.Options{NoAgent: true, Redirect: client.RedirectError})
		require.ErrorIs(t, err, &client.Error{Code: client.CodeRedirectMode})
	})
	t.Run("mode follow stops at the limit", func(t *testing.T) {
		_, err := client.Get(ctx, url(3, 302), &client.Options{NoAgent: true, Redirect: client.RedirectFollow, MaxRedirects: 2})
		require.ErrorIs(t, err, &client.Error{Code: client.CodeRedirect})
		res, err := client.Get(ctx, url(2, 302), &client.Options{NoAgent: true, Redirect: client.RedirectFollow, MaxRedirects: 2})
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
		readAll(t, res)
	})
}

func TestLoginAgainstNode(t *testing.T) {
	addr := startNode(t)
	ctx := context.Background()
	for _, proxy := range []bool{false, true} {
		t.Run(fmt.Sprintf("proxy=%v", proxy), func(t *testing.T) {
			q := ""
			if proxy {
				q = "?proxy=1"
			}
			var infos []client.AuthInfo
			res, err := client.Get(ctx, "http://"+addr+"/auth"+q, &client.Options{NoAgent: true, Events: client.Events{
				OnLogin: func(info *client.AuthInfo) (string, string, bool) {
					infos = append(infos, *info)
					if len(infos) == 1 {
						return "user", "wrong", true
					}
					return "user", "pw", true
				}}})
			require.NoError(t, err)
			require.Equal(t, 200, res.StatusCode)
			require.Equal(t, "welcome", readAll(t, res))
			require.Len(t, infos, 2, "a wrong password is asked again")
			require.Equal(t, client.AuthInfo{IsProxy: proxy, Scheme: "basic", Host: "127.0.0.1", Port: portOf(t, addr), Realm: "hostd"}, infos[0])
		})
	}
	for _, alg := range []string{"MD5", "SHA-256"} {
		t.Run("digest "+alg+" is preferred to Basic", func(t *testing.T) {
			var infos []client.AuthInfo
			res, err := client.Get(ctx, "http://"+addr+"/digest?alg="+alg, &client.Options{NoAgent: true, Events: client.Events{
				OnLogin: func(info *client.AuthInfo) (string, string, bool) {
					infos = append(infos, *info)
					return "user", "pw", len(infos) == 1
				}}})
			require.NoError(t, err)
			require.Equal(t, "digest ok", readAll(t, res))
			require.Equal(t, []client.AuthInfo{{Scheme: "digest", Host: "127.0.0.1", Port: portOf(t, addr), Realm: "hostd"}}, infos)
		})
	}
	t.Run("giving up delivers the challenge", func(t *testing.T) {
		res, err := client.Get(ctx, "http://"+addr+"/auth", &client.Options{NoAgent: true, Events: client.Events{
			OnLogin: func(*client.AuthInfo) (string, string, bool) { return "", "", false }}})
		require.NoError(t, err)
		require.Equal(t, 401, res.StatusCode)
		require.Equal(t, "who are you?", readAll(t, res))
	})
}

func TestUploadProgressAndChunkedEncoding(t *testing.T) {
	addr := startNode(t)
	ctx := context.Background()
	t.Run("chunkedEncoding false sends a Content-Length", func(t *testing.T) {
		req, err := client.NewRequest(ctx, client.Options{URL: "http://" + addr + "/echo", Method: "POST", NoAgent: true})
		require.NoError(t, err)
		require.NoError(t, req.SetChunkedEncoding(false))
		require.False(t, req.GetUploadProgress().Started)
		require.NoError(t, req.Write([]byte("abc")))
		require.NoError(t, req.Write([]byte("def")))
		require.False(t, req.HeadersSent())
		require.NoError(t, req.End(nil))
		res, err := req.Response(ctx)
		require.NoError(t, err)
		e := decodeEcho(t, res)
		require.Equal(t, "abcdef", e.Body)
		require.Contains(t, e.RawHeaders, "Content-Length")
		require.NotContains(t, e.RawHeaders, "Transfer-Encoding")
	})
	t.Run("chunkedEncoding true, progress counted", func(t *testing.T) {
		req, err := client.NewRequest(ctx, client.Options{URL: "http://" + addr + "/echo", Method: "PUT", NoAgent: true})
		require.NoError(t, err)
		require.NoError(t, req.SetChunkedEncoding(true))
		require.True(t, req.GetUploadProgress().Active)
		require.NoError(t, req.Write([]byte("abc")))
		require.ErrorIs(t, req.SetChunkedEncoding(false), &client.Error{Code: "ERR_HTTP_HEADERS_SENT"})
		require.NoError(t, req.End([]byte("de")))
		res, err := req.Response(ctx)
		require.NoError(t, err)
		e := decodeEcho(t, res)
		require.Equal(t, "abcde", e.Body)
		require.Contains(t, e.RawHeaders, "Transfer-Encoding")
		p := req.GetUploadProgress()
		if p.Active { // the response body is read, but 'close' may not have run yet
			require.Equal(t, client.UploadProgress{Active: true, Started: true, Current: 5, Total: -1}, p)
		}
	})
}
