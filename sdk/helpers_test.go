package sdk_test

import (
	"testing"
	"time"

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
