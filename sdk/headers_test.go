package sdk_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk"
)

func TestHeaders(t *testing.T) {
	h := sdk.Headers{"x-a": {"1, 2"}, "set-cookie": {"a=1", "b=2"}}
	t.Run("lookups ignore the name's case", func(t *testing.T) {
		require.Equal(t, "1, 2", h.Get("X-A"))
		require.Equal(t, "a=1", h.Get("Set-Cookie"))
		require.Equal(t, []string{"a=1", "b=2"}, h.Values("SET-COOKIE"))
		require.True(t, h.Has("x-A"))
		require.False(t, h.Has("x-b"))
		require.Equal(t, "", h.Get("x-b"))
	})
	t.Run("JSON has Node's shape and reads back", func(t *testing.T) {
		b, err := json.Marshal(h)
		require.NoError(t, err)
		require.JSONEq(t, `{"x-a": "1, 2", "set-cookie": ["a=1", "b=2"]}`, string(b))
		var back sdk.Headers
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, h, back)
	})
}
