package sdk_test

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/sdktest"
)

// serve runs handler for req through sdktest and waits, after the
// response, until the handler has returned too, so that the test may read
// what the handler recorded after its End.
func serve(t *testing.T, req sdktest.Request, handler func(*sdk.Request, *sdk.Response), opts ...sdktest.Option) *sdktest.Recorder {
	t.Helper()
	returned := make(chan struct{})
	rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		defer close(returned)
		handler(req, res)
	}), req, opts...)
	select {
	case <-returned:
	case <-time.After(sdktest.DefaultTimeout):
		t.Fatal("the handler did not return")
	}
	return rec
}

// codeOf returns the Node error code of err, or "" if err is not an
// *sdk.Error.
func codeOf(err error) string {
	if e, ok := err.(*sdk.Error); ok {
		return e.Code
	}
	return ""
}

// socketPair returns both ends of a Unix stream socketpair.
func socketPair(t testing.TB) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}
