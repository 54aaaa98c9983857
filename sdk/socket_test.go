package sdk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/sdktest"
)

// socketHandler adapts functions to the upgrade and connect events.
type socketHandler func(req *sdk.Request, socket net.Conn, head []byte)

func (f socketHandler) HandleUpgrade(req *sdk.Request, socket net.Conn, head []byte) {
	f(req, socket, head)
}

func (f socketHandler) HandleConnect(req *sdk.Request, socket net.Conn, head []byte) {
	f(req, socket, head)
}

var (
	_ sdk.UpgradeHandler = socketHandler(nil)
	_ sdk.ConnectHandler = socketHandler(nil)
)

// socketModes are the two ways hostd hands over a socket.
var socketModes = []struct {
	name string
	opts []sdktest.Option
}{
	{name: "passed as a descriptor"},
	{name: "relayed as frames", opts: []sdktest.Option{sdktest.WithRelaySockets()}},
}

// dial connects to handler's socket and bounds the test's reads and
// writes on it.
func dial(t *testing.T, handler socketHandler, req sdktest.Request, opts ...sdktest.Option) net.Conn {
	t.Helper()
	conn := sdktest.Dial(t, handler, req, opts...)
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	return conn
}

// closeWrite half-closes c.
func closeWrite(t *testing.T, c net.Conn) {
	t.Helper()
	cw, ok := c.(interface{ CloseWrite() error })
	require.True(t, ok, "%T can half-close", c)
	require.NoError(t, cw.CloseWrite())
}

func TestSocketBytesBothWays(t *testing.T) {
	for _, mode := range socketModes {
		t.Run("with the socket "+mode.name, func(t *testing.T) {
			type seen struct {
				url, upgrade, head string
				readEOF            error
			}
			got := make(chan seen, 1)
			conn := dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
				defer socket.Close()
				s := seen{url: req.URL(), upgrade: req.Header("upgrade"), head: string(head)}
				_, err := io.WriteString(socket, "HTTP/1.1 101 Switching Protocols\r\n\r\n")
				assert.NoError(t, err)
				// Echo until the client half-closes, then answer once more:
				// the socket is still writable.
				_, err = io.Copy(socket, socket)
				assert.NoError(t, err)
				_, s.readEOF = socket.Read(make([]byte, 1))
				_, err = io.WriteString(socket, "after your end")
				assert.NoError(t, err)
				got <- s
			}, sdktest.Request{URL: "/chat", Headers: []string{"Upgrade", "echo"}, Head: []byte("sent early")}, mode.opts...)
			_, err := conn.Write([]byte("ping"))
			require.NoError(t, err)
			closeWrite(t, conn)
			all, err := io.ReadAll(conn)
			require.NoError(t, err)
			require.Equal(t, "HTTP/1.1 101 Switching Protocols\r\n\r\npingafter your end", string(all))
			s := <-got
			require.Equal(t, "/chat", s.url)
			require.Equal(t, "echo", s.upgrade)
			require.Equal(t, "sent early", s.head)
			require.Equal(t, io.EOF, s.readEOF)
		})
	}
}

func TestSocketLargeTransfersBothWaysAtOnce(t *testing.T) {
	// A tunnel reads and writes its socket from two goroutines at once,
	// several windows each way.
	up := bytes.Repeat([]byte("client->plugin "), 200_000)
	down := bytes.Repeat([]byte("plugin->client "), 200_000)
	for _, mode := range socketModes {
		t.Run("with the socket "+mode.name, func(t *testing.T) {
			received := make(chan []byte, 1)
			conn := dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
				defer socket.Close()
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := socket.Write(down)
					assert.NoError(t, err)
					if cw, ok := socket.(interface{ CloseWrite() error }); assert.True(t, ok) {
						assert.NoError(t, cw.CloseWrite())
					}
				}()
				b, err := io.ReadAll(socket)
				assert.NoError(t, err)
				received <- b
				wg.Wait()
			}, sdktest.Request{Method: "CONNECT", URL: "example.com:443"}, mode.opts...)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := conn.Write(up)
				assert.NoError(t, err)
				closeWrite(t, conn)
			}()
			got, err := io.ReadAll(conn)
			require.NoError(t, err)
			wg.Wait()
			require.True(t, bytes.Equal(down, got), "the plugin's bytes arrive intact (%d of %d)", len(got), len(down))
			require.True(t, bytes.Equal(up, <-received), "the client's bytes arrive intact")
		})
	}
}

func TestRelayedSocketLosesNothingSentAtOnce(t *testing.T) {
	// The client writes as soon as it is connected, before the handler's
	// goroutine has started: those bytes wait for it.
	for i := range 20 {
		conn := dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			defer socket.Close()
			_, _ = io.Copy(socket, socket)
		}, sdktest.Request{}, sdktest.WithRelaySockets())
		msg := []byte("immediately " + string(rune('a'+i)))
		_, err := conn.Write(msg)
		require.NoError(t, err)
		closeWrite(t, conn)
		got, err := io.ReadAll(conn)
		require.NoError(t, err)
		require.Equal(t, string(msg), string(got), "attempt %d", i)
	}
}

func TestRelayedSocketDeadlines(t *testing.T) {
	relay := sdktest.WithRelaySockets()
	t.Run("a read deadline passing fails the read with a timeout", func(t *testing.T) {
		errs := make(chan error, 1)
		dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			defer socket.Close()
			assert.NoError(t, socket.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
			_, err := socket.Read(make([]byte, 1))
			errs <- err
		}, sdktest.Request{}, relay)
		requireTimeout(t, <-errs)
	})
	t.Run("a deadline set in the past unblocks a waiting read", func(t *testing.T) {
		errs := make(chan error, 1)
		reading := make(chan net.Conn, 1)
		dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			defer socket.Close()
			reading <- socket
			_, err := socket.Read(make([]byte, 1))
			errs <- err
		}, sdktest.Request{}, relay)
		socket := <-reading
		// The read may or may not have started waiting: either way it
		// must end with a timeout.
		require.NoError(t, socket.SetReadDeadline(time.Now().Add(-time.Second)))
		select {
		case err := <-errs:
			requireTimeout(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("the read still waits after its deadline passed")
		}
	})
	t.Run("a deadline in the past unblocks a write waiting for credit", func(t *testing.T) {
		errs := make(chan error, 1)
		writing := make(chan net.Conn, 1)
		// The client never reads: once the window and the socket buffers
		// are full the handler's write waits for credit.
		dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			defer socket.Close()
			writing <- socket
			_, err := socket.Write(make([]byte, 16<<20))
			errs <- err
		}, sdktest.Request{}, relay)
		socket := <-writing
		require.NoError(t, socket.SetWriteDeadline(time.Now().Add(-time.Second)))
		select {
		case err := <-errs:
			requireTimeout(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("the write still waits after its deadline passed")
		}
	})
	t.Run("clearing the deadline lets reads wait again", func(t *testing.T) {
		got := make(chan string, 1)
		conn := dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			defer socket.Close()
			assert.NoError(t, socket.SetDeadline(time.Now().Add(-time.Second)))
			_, err := socket.Read(make([]byte, 1))
			assert.True(t, errors.Is(err, os.ErrDeadlineExceeded))
			assert.NoError(t, socket.SetDeadline(time.Time{}))
			b := make([]byte, 5)
			_, err = io.ReadFull(socket, b)
			assert.NoError(t, err)
			got <- string(b)
		}, sdktest.Request{}, relay)
		_, err := conn.Write([]byte("later"))
		require.NoError(t, err)
		require.Equal(t, "later", <-got)
	})
}

func requireTimeout(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "%v is a net.Error timeout", err)
}

func TestRelayedSocketClose(t *testing.T) {
	relay := sdktest.WithRelaySockets()
	t.Run("closing the socket ends the client's reads and the handler's", func(t *testing.T) {
		type after struct{ read, write error }
		got := make(chan after, 1)
		conn := dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			_, err := io.WriteString(socket, "bye")
			assert.NoError(t, err)
			assert.NoError(t, socket.Close())
			assert.NoError(t, socket.Close(), "a second Close does nothing")
			var a after
			_, a.read = socket.Read(make([]byte, 1))
			_, a.write = socket.Write([]byte("x"))
			got <- a
		}, sdktest.Request{}, relay)
		all, err := io.ReadAll(conn)
		require.NoError(t, err)
		require.Equal(t, "bye", string(all))
		a := <-got
		require.ErrorIs(t, a.read, net.ErrClosed)
		require.ErrorIs(t, a.write, net.ErrClosed)
	})
	t.Run("writing after CloseWrite fails", func(t *testing.T) {
		errs := make(chan error, 1)
		conn := dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			defer socket.Close()
			cw := socket.(interface{ CloseWrite() error })
			assert.NoError(t, cw.CloseWrite())
			_, err := socket.Write([]byte("x"))
			errs <- err
		}, sdktest.Request{}, relay)
		all, err := io.ReadAll(conn)
		require.NoError(t, err)
		require.Empty(t, all)
		require.ErrorIs(t, <-errs, net.ErrClosed)
	})
	t.Run("the addresses are the client's and the server's", func(t *testing.T) {
		addrs := make(chan [2]net.Addr, 1)
		dial(t, func(req *sdk.Request, socket net.Conn, head []byte) {
			defer socket.Close()
			addrs <- [2]net.Addr{socket.RemoteAddr(), socket.LocalAddr()}
		}, sdktest.Request{RemoteAddr: "192.0.2.1:5555", LocalAddr: "192.0.2.2:80"}, relay)
		a := <-addrs
		require.Equal(t, "192.0.2.1:5555", a[0].String())
		require.Equal(t, "192.0.2.2:80", a[1].String())
		require.Equal(t, "tcp", a[0].Network())
	})
}

func TestClientErrorSocketOnlyWrites(t *testing.T) {
	type seen struct {
		readErr error
		ce      sdk.ClientError
	}
	got := make(chan seen, 1)
	out := sdktest.ClientError(t, clientErrorFunc(func(ce *sdk.ClientError, socket net.Conn) {
		_, err := socket.Read(make([]byte, 1))
		got <- seen{readErr: err, ce: *ce}
		_, err = io.WriteString(socket, "HTTP/1.1 400 Bad Request\r\n\r\n")
		assert.NoError(t, err)
	}), sdk.ClientError{Code: "HPE_INVALID_METHOD", BytesParsed: 0, RawPacket: []byte("BAD / HTTP/1.1\r\n\r\n"), RemoteAddr: "192.0.2.9:1"})
	require.Equal(t, "HTTP/1.1 400 Bad Request\r\n\r\n", string(out))
	s := <-got
	require.ErrorContains(t, s.readErr, "cannot be read")
	require.Equal(t, "HPE_INVALID_METHOD", s.ce.Code)
	require.Equal(t, "BAD / HTTP/1.1\r\n\r\n", string(s.ce.RawPacket))
	require.Equal(t, "192.0.2.9:1", s.ce.RemoteAddr)
	require.EqualError(t, &s.ce, "client error HPE_INVALID_METHOD")
}

type clientErrorFunc func(*sdk.ClientError, net.Conn)

func (f clientErrorFunc) HandleClientError(ce *sdk.ClientError, socket net.Conn) { f(ce, socket) }

func TestClientErrorAfterTheResponseBegan(t *testing.T) {
	for _, sent := range []bool{false, true} {
		t.Run(fmt.Sprintf("HeadersSent %v", sent), func(t *testing.T) {
			got := make(chan error, 1)
			var seen bool
			out := sdktest.ClientError(t, clientErrorFunc(func(ce *sdk.ClientError, socket net.Conn) {
				seen = ce.HeadersSent
				_, err := io.WriteString(socket, "HTTP/1.1 408 Request Timeout\r\n\r\n")
				got <- err
			}), sdk.ClientError{Code: "ERR_HTTP_REQUEST_TIMEOUT", HeadersSent: sent})
			require.Equal(t, sent, seen)
			err := <-got
			if sent {
				require.ErrorIs(t, err, sdk.ErrResponseBegun)
				require.Empty(t, out, "nothing reaches hostd")
			} else {
				require.NoError(t, err)
				require.Equal(t, "HTTP/1.1 408 Request Timeout\r\n\r\n", string(out))
			}
		})
	}
}

type timeoutFunc func(*sdk.Timeout, net.Conn)

func (f timeoutFunc) HandleTimeout(ev *sdk.Timeout, socket net.Conn) { f(ev, socket) }

func TestTimeoutSocket(t *testing.T) {
	t.Run("the handler learns the addresses and writes then ends", func(t *testing.T) {
		seen := make(chan [4]string, 1)
		out, kept := sdktest.ServerTimeout(t, timeoutFunc(func(ev *sdk.Timeout, socket net.Conn) {
			seen <- [4]string{ev.RemoteAddr, ev.LocalAddr, socket.RemoteAddr().String(), socket.LocalAddr().String()}
			_, err := io.WriteString(socket, "bye\n")
			assert.NoError(t, err)
			assert.NoError(t, socket.(interface{ CloseWrite() error }).CloseWrite())
		}), sdk.Timeout{RemoteAddr: "192.0.2.9:1", LocalAddr: "192.0.2.1:80"})
		require.Equal(t, "bye\n", string(out))
		require.False(t, kept, "an ended socket is not kept")
		require.Equal(t, [4]string{"192.0.2.9:1", "192.0.2.1:80", "192.0.2.9:1", "192.0.2.1:80"}, <-seen)
	})

	t.Run("a handler that does nothing keeps the socket, and cannot use it after", func(t *testing.T) {
		held := make(chan net.Conn, 1)
		out, kept := sdktest.ServerTimeout(t, timeoutFunc(func(_ *sdk.Timeout, socket net.Conn) {
			_, err := socket.Read(make([]byte, 1))
			assert.ErrorContains(t, err, "cannot be read")
			held <- socket
		}), sdk.Timeout{})
		require.Empty(t, out)
		require.True(t, kept)
		_, err := io.WriteString(<-held, "late")
		require.ErrorIs(t, err, net.ErrClosed)
	})

	t.Run("Close ends the socket", func(t *testing.T) {
		_, kept := sdktest.ServerTimeout(t, timeoutFunc(func(_ *sdk.Timeout, socket net.Conn) { socket.Close() }), sdk.Timeout{})
		require.False(t, kept)
	})

	t.Run("a begun response refuses the handler's bytes", func(t *testing.T) {
		got := make(chan error, 1)
		out, kept := sdktest.ServerTimeout(t, timeoutFunc(func(ev *sdk.Timeout, socket net.Conn) {
			assert.True(t, ev.HeadersSent)
			_, err := io.WriteString(socket, "bye\n")
			got <- err
		}), sdk.Timeout{HeadersSent: true})
		require.ErrorIs(t, <-got, sdk.ErrResponseBegun)
		require.Empty(t, out)
		require.True(t, kept)
	})
}
