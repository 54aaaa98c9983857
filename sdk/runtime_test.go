package sdk_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/sdktest"
)

func TestServeConnOptions(t *testing.T) {
	write204 := func(req *sdk.Request, res *sdk.Response) (err error) {
		assert.NoError(t, res.WriteHead(204))
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
	t.Run("without the option the write is dropped", func(t *testing.T) {
		var err error
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) { err = write204(req, res) })
		require.NoError(t, err)
		require.Empty(t, rec.Body)
	})
}
