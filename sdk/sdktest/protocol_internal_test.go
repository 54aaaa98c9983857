package sdktest

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
)

// These tests put a hand-written plugin behind the Host, to check that the
// harness catches a plugin that breaks the protocol.

type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (f *recordingTB) Helper() {}

func (f *recordingTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}

func (f *recordingTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

// rawPlugin answers the first request it reads with the frames answer
// returns, then reads until the connection ends.
func rawPlugin(answer func(id uint32) [][]byte) func(*net.UnixConn) error {
	return func(c *net.UnixConn) error {
		defer c.Close()
		r := protocol.NewReader(c)
		for {
			f, err := r.Next()
			if err != nil {
				return err
			}
			if f.Type == protocol.TypeRequest {
				for _, fr := range answer(f.Stream) {
					if _, err := c.Write(fr); err != nil {
						return err
					}
				}
			}
		}
	}
}

func frame(id uint32, t protocol.Type, payload []byte) []byte {
	return append(protocol.AppendHeader(nil, id, t, len(payload)), payload...)
}

func head(id uint32) []byte {
	return frame(id, protocol.TypeHead, protocol.AppendResponseHead(nil, &protocol.ResponseHead{Status: 200, Length: -1}))
}

func end(id uint32) []byte {
	return frame(id, protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{}))
}

// failuresOf runs one request against serve and returns the test failures.
func failuresOf(t *testing.T, serve func(*net.UnixConn) error, req Request) []string {
	t.Helper()
	f := &recordingTB{TB: t}
	t.Run("inner", func(inner *testing.T) {
		f.TB = inner
		done := make(chan struct{})
		go func() {
			defer close(done)
			h, err := startServe(f, options{timeout: 2 * time.Second, logger: hclog.NewNullLogger()}, serve)
			if err != nil {
				f.Fatalf("%v", err)
			}
			inner.Cleanup(h.Close)
			h.Do(req)
		}()
		<-done
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failures
}

func TestHostCatchesProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(id uint32) [][]byte
		req    Request
		want   string
	}{
		{name: "body bytes before the head", want: "body bytes before the response head",
			answer: func(id uint32) [][]byte { return [][]byte{frame(id, protocol.TypeBody, []byte("x")), end(id)} }},
		{name: "a second head", want: "a second response head",
			answer: func(id uint32) [][]byte { return [][]byte{head(id), head(id), end(id)} }},
		{name: "an End with a head after a head", want: "an End with a head after the head",
			answer: func(id uint32) [][]byte {
				return [][]byte{head(id), frame(id, protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{HasHead: true}))}
			}},
		{name: "an End without any head", want: "an End without a head, before any head",
			answer: func(id uint32) [][]byte { return [][]byte{end(id)} }},
		{name: "a 1xx after the head", want: "a 103 response after the head",
			answer: func(id uint32) [][]byte {
				return [][]byte{head(id), frame(id, protocol.TypeInfo, protocol.AppendInfo(nil, &protocol.Info{Status: 103})), end(id)}
			}},
		{name: "an informational status hostd cannot send", want: "status 101",
			answer: func(id uint32) [][]byte {
				return [][]byte{frame(id, protocol.TypeInfo, protocol.AppendInfo(nil, &protocol.Info{Status: 101})), end(id)}
			}},
		{name: "a malformed End", want: "malformed frame",
			answer: func(id uint32) [][]byte { return [][]byte{head(id), frame(id, protocol.TypeEnd, []byte{0, 9})} }},
		{name: "a socket frame on a request", want: "a SockData frame on a request stream",
			answer: func(id uint32) [][]byte { return [][]byte{frame(id, protocol.TypeSockData, nil)} }},
		{name: "a frame only hostd sends", want: "a Abort frame, which only hostd sends",
			answer: func(id uint32) [][]byte { return [][]byte{frame(id, protocol.TypeAbort, nil)} }},
		{name: "a stream never opened", want: "on stream 9, which was never opened",
			answer: func(id uint32) [][]byte { return [][]byte{head(9)} }},
		{name: "a frame header past MaxFrame", want: "malformed frame",
			answer: func(id uint32) [][]byte { return [][]byte{{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 16}} }},
		{name: "more response body than the window", want: "the plugin sent 294912 response body bytes with 262144 of credit",
			answer: func(id uint32) [][]byte {
				out := [][]byte{head(id)}
				// 6 × 48 KiB cross the 256 KiB window without landing
				// on it, where the host would have granted more.
				for range 6 {
					out = append(out, frame(id, protocol.TypeBody, make([]byte, 48<<10)))
				}
				return out
			}},
		{name: "a body frame past MaxChunk", want: "a Body frame of 65537 bytes",
			answer: func(id uint32) [][]byte {
				return [][]byte{head(id), frame(id, protocol.TypeBody, make([]byte, protocol.MaxChunk+1)), end(id)}
			}},
		{name: "credit for request body never received", want: "granted 10 bytes of request body credit after receiving 0 bytes",
			req: Request{Method: "POST", Inline: true, Body: nil},
			answer: func(id uint32) [][]byte {
				return [][]byte{frame(id, protocol.TypeCredit, protocol.AppendUint32(nil, 10)), head(id), end(id)}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := failuresOf(t, rawPlugin(tc.answer), tc.req)
			require.NotEmpty(t, got)
			require.Contains(t, got[0], tc.want)
		})
	}
	t.Run("a plugin that answers correctly passes", func(t *testing.T) {
		got := failuresOf(t, rawPlugin(func(id uint32) [][]byte { return [][]byte{head(id), end(id)} }), Request{})
		require.Empty(t, got)
	})
	t.Run("a plugin whose data plane ends fails the request", func(t *testing.T) {
		got := failuresOf(t, func(c *net.UnixConn) error {
			r := protocol.NewReader(c)
			_, _ = r.Next()
			c.Close()
			return fmt.Errorf("gave up")
		}, Request{})
		require.Len(t, got, 1)
		require.Contains(t, got[0], "the data plane ended: sdk.ServeConn returned: gave up")
	})
}
