package sdk_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/sdktest"
)

// Issue 12, missing from the SDK: the values of Node's http module, as
// Node v20 has them.
func TestHTTPValuesAreNodes(t *testing.T) {
	out := testutil.RunNode(t, `const http = require('node:http');
process.stdout.write(JSON.stringify({methods: http.METHODS, statusCodes: http.STATUS_CODES, maxHeaderSize: http.maxHeaderSize}));`, "")
	var node struct {
		Methods       []string          `json:"methods"`
		StatusCodes   map[string]string `json:"statusCodes"`
		MaxHeaderSize int               `json:"maxHeaderSize"`
	}
	require.NoError(t, json.Unmarshal(out, &node))
	require.Equal(t, node.Methods, sdk.Methods, "http.METHODS")
	ours := map[string]string{}
	for code, text := range sdk.StatusCodes {
		ours[strconv.Itoa(code)] = text
	}
	require.Equal(t, node.StatusCodes, ours, "http.STATUS_CODES")
	require.Equal(t, node.MaxHeaderSize, sdk.MaxHeaderSize, "http.maxHeaderSize")
	require.Equal(t, http1.DefaultMaxHeaderSize, sdk.MaxHeaderSize, "hostd's default max_header_size")
}

func TestHTTPValuesAreCopies(t *testing.T) {
	sdk.Methods[0] = "CHANGED"
	sdk.StatusCodes[200] = "Changed"
	t.Cleanup(func() { sdk.Methods[0], sdk.StatusCodes[200] = "ACL", "OK" })
	var method string
	rec := serve(t, sdktest.Request{Method: "ACL"}, func(req *sdk.Request, res *sdk.Response) {
		method = req.Method()
		_ = res.End()
	})
	require.Equal(t, "ACL", method, "the SDK still knows its methods")
	require.Equal(t, 200, rec.Status)
}
