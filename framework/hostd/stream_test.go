package hostd_test

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/plugins/echo"
)

const streamConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.echo]
cmd = "{{bin}}/echo"
[plugins.stream]
builtin = "stream"
[[routes]]
path = "/echo"
plugin = "echo"
[[routes]]
path = "/stream"
plugin = "stream"
`

const (
	streamSize = 100 << 20
	// memoryBound is what each side may hold while 100 MiB stream
	// through: far less than the body, so nothing buffers it whole.
	memoryBound = 48 << 20
)

// heapWatch samples the test process's heap, where the host runs, until
// stopped, and reports the peak.
func heapWatch() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// pattern is an endless reader of a known byte pattern.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte('a' + (p.n+int64(i))%26)
	}
	p.n += int64(len(b))
	return len(b), nil
}

func TestHundredMiBStreamEachWayWithBoundedMemory(t *testing.T) {
	h := hostdtest.Start(t, config(streamConfig))
	runtime.GC()

	t.Run("an upload streams to the plugin, which counts every byte", func(t *testing.T) {
		stop := heapWatch()
		body := io.LimitReader(&pattern{}, streamSize)
		req, err := http.NewRequest(http.MethodPost, h.URL+"/echo/upload", body)
		require.NoError(t, err)
		req.ContentLength = -1 // chunked: the host cannot know the size
		r := h.Do(t, req).RequireStatus(200)
		hostPeak := stop()
		var a echo.Answer
		require.NoError(t, json.Unmarshal([]byte(r.Body), &a))
		require.EqualValues(t, streamSize, a.BodyLength)
		require.Len(t, a.Body, echo.DefaultMaxBody, "the answer keeps only max_body bytes")
		require.Less(t, hostPeak, uint64(memoryBound), "host heap peak")
		pid := h.Plugin("echo").Current().Pid()
		require.Less(t, hostdtest.PeakRSS(t, pid), uint64(memoryBound), "plugin peak RSS")
	})

	t.Run("a download streams from the plugin at the client's pace", func(t *testing.T) {
		stop := heapWatch()
		res, err := h.Client.Get(h.URL + "/stream?bytes=" + strconv.Itoa(streamSize))
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, "chunked", strings.Join(res.TransferEncoding, ","))
		n := hostdtest.ReadStreamPattern(t, res.Body) // the bytes, not just their count
		hostPeak := stop()
		require.EqualValues(t, streamSize, n)
		require.Less(t, hostPeak, uint64(memoryBound), "host heap peak")
		if !hostdtest.Race { // the stream plugin is this binary, instrumented
			pid := h.Plugin("stream").Current().Pid()
			require.Less(t, hostdtest.PeakRSS(t, pid), uint64(memoryBound), "plugin peak RSS")
		}
	})
}
