package sdk_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/internal/wiretest"
	"github.com/hostd/hostd/sdk/sdktest"
)

func TestServeConnOptions(t *testing.T) {
	write204 := func(req *sdk.Request, res *sdk.Response) (err error) {
		res.WriteHead(204)
		_, err = res.Write([]byte("x"))
		assert.NoError(t, res.End())
		return err
	}
	t.Run("RejectNonStandardBodyWrites applies without a config", func(t *testing.T) {
		var err error
		serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) { err = write204(req, res) },
			sdktest.WithRejectNonStandardBodyWrites())
		require.Equal(t, "ERR_HTTP_BODY_NOT_ALLOWED", codeOf(err))
	})
	t.Run("RejectNonStandardBodyWrites applies with a config", func(t *testing.T) {
		var err error
		serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) { err = write204(req, res) },
			sdktest.WithRejectNonStandardBodyWrites(), sdktest.WithConfig(`{}`))
		require.Equal(t, "ERR_HTTP_BODY_NOT_ALLOWED", codeOf(err))
	})
	for _, tc := range []struct {
		name string
		opts []sdktest.Option
		want string
	}{
		{name: "without JoinDuplicateHeaders the first User-Agent is kept", want: "u1"},
		{name: "JoinDuplicateHeaders joins User-Agent", opts: []sdktest.Option{sdktest.WithJoinDuplicateHeaders()}, want: "u1, u2"},
		{name: "JoinDuplicateHeaders applies with a config", opts: []sdktest.Option{sdktest.WithJoinDuplicateHeaders(), sdktest.WithConfig(`{}`)}, want: "u1, u2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers, trailers string
			req := sdktest.Request{Method: "POST", Headers: []string{"User-Agent", "u1", "User-Agent", "u2"},
				Body: strings.NewReader("x"), Trailers: []string{"User-Agent", "u1", "user-agent", "u2"}}
			serve(t, req, func(req *sdk.Request, res *sdk.Response) {
				_, _ = io.Copy(io.Discard, req)
				headers, trailers = req.Header("user-agent"), req.Trailers().Get("user-agent")
				_ = res.End()
			}, tc.opts...)
			require.Equal(t, tc.want, headers)
			require.Equal(t, tc.want, trailers)
		})
	}
	t.Run("without the option the write is dropped", func(t *testing.T) {
		var err error
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) { err = write204(req, res) })
		require.NoError(t, err)
		require.Empty(t, rec.Body)
	})
}

func TestHandlerPanicResetsTheStream(t *testing.T) {
	t.Run("before the head", func(t *testing.T) {
		rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			panic(fmt.Errorf("broken %d", 42))
		}), sdktest.Request{})
		require.Equal(t, []protocol.Type{protocol.TypeReset}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, "broken 42", rec.ResetMessage)
	})
	t.Run("after the head, which hostd must cut short", func(t *testing.T) {
		rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			_, _ = res.Write([]byte("partial"))
			panic("midway")
		}), sdktest.Request{})
		require.Equal(t, []protocol.Type{protocol.TypeHead, protocol.TypeBody, protocol.TypeReset}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, "partial", string(rec.Body))
	})
	t.Run("after End, which nothing follows", func(t *testing.T) {
		done := make(chan struct{})
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			if req.URL() == "/after" {
				defer close(done)
				_ = res.EndString("ok")
				panic("too late to matter")
			}
			_ = res.EndString("next")
		}))
		rec := h.Do(sdktest.Request{URL: "/after"})
		<-done
		require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, "next", string(h.Do(sdktest.Request{URL: "/next"}).Body), "the plugin keeps serving")
	})
	t.Run("the panic is logged", func(t *testing.T) {
		var logged strings.Builder
		var mu sync.Mutex
		log := hclog.New(&hclog.LoggerOptions{Output: lockedWriter{&mu, &logged}, Level: hclog.Error})
		sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			panic("noted")
		}), sdktest.Request{URL: "/logged"}, sdktest.WithLogger(log))
		mu.Lock()
		defer mu.Unlock()
		require.Contains(t, logged.String(), "handler panicked")
		require.Contains(t, logged.String(), "/logged")
		require.Contains(t, logged.String(), "noted")
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestUnknownEventIsReset(t *testing.T) {
	// sdktest relies on this answer to know that a plugin is serving.
	rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {}), sdktest.Request{Event: 200})
	require.True(t, rec.Reset)
	require.Equal(t, "unknown event 200", rec.ResetMessage)
}

// settings is a plugin with a config table.
type settings struct {
	cfg struct {
		Greeting string `json:"greeting"`
		Times    int    `json:"times"`
	}
	name string
	raw  string
}

func (s *settings) Configure(cfg *sdk.Config) error {
	s.cfg.Times = 1
	s.name, s.raw = cfg.Name, string(cfg.Raw())
	if err := cfg.Decode(&s.cfg); err != nil {
		return err
	}
	if s.cfg.Times < 1 {
		return errors.New("times must be positive")
	}
	return nil
}

func (s *settings) HandleRequest(req *sdk.Request, res *sdk.Response) {
	_ = res.EndString(strings.Repeat(s.cfg.Greeting, s.cfg.Times))
}

func TestConfigure(t *testing.T) {
	t.Run("the table reaches Configure before any request", func(t *testing.T) {
		s := &settings{}
		rec := sdktest.Do(t, s, sdktest.Request{}, sdktest.WithName("greeter"), sdktest.WithConfig(`{"greeting": "hi ", "times": 2}`))
		require.Equal(t, "hi hi ", string(rec.Body))
		require.Equal(t, "greeter", s.name)
		require.JSONEq(t, `{"greeting": "hi ", "times": 2}`, s.raw)
	})
	t.Run("an unknown key is refused, naming the plugin", func(t *testing.T) {
		err := sdktest.Configure(&settings{}, sdktest.WithName("greeter"), sdktest.WithConfig(`{"greting": "typo"}`))
		require.EqualError(t, err, `Configure: plugin greeter: config.greting: unknown key`)
	})
	t.Run("a value of the wrong type is refused", func(t *testing.T) {
		err := sdktest.Configure(&settings{}, sdktest.WithConfig(map[string]any{"times": "two"}))
		require.EqualError(t, err, "Configure: plugin test: config.times: a string where int is expected")
	})
	t.Run("the plugin's own check is reported", func(t *testing.T) {
		require.EqualError(t, sdktest.Configure(&settings{}, sdktest.WithConfig(`{"times": 0}`)), "Configure: times must be positive")
	})
	t.Run("an empty table leaves the defaults", func(t *testing.T) {
		s := &settings{}
		require.NoError(t, sdktest.Configure(s, sdktest.WithConfig([]byte{})))
		require.Equal(t, 1, s.cfg.Times)
	})
	t.Run("ServeConn refuses to serve and closes the connection", func(t *testing.T) {
		a, b := testutil.SocketPair(t)
		err := sdk.ServeConn(b, &settings{}, sdk.ConnOptions{Config: []byte(`{"times": -1}`)})
		require.EqualError(t, err, "times must be positive")
		require.NoError(t, a.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err = a.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
	})
}
