package hostd_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

const relayConfig = `
[server]
listen = ["127.0.0.1:0"]

[plugins.passed]
builtin = "sockets"
[plugins.configured]
builtin = "sockets"
relay_sockets = true
[plugins.asks]
builtin = "asksrelay"

[[routes]]
path = "/passed"
events = ["upgrade"]
plugin = "passed"
[[routes]]
path = "/configured"
events = ["upgrade"]
plugin = "configured"
[[routes]]
path = "/asks"
events = ["upgrade"]
plugin = "asks"
`

// An upgraded socket is the client's descriptor, passed to the plugin,
// unless the configuration or the plugin itself asks for it to be relayed.
func TestSocketsArePassedUnlessRelayIsAsked(t *testing.T) {
	h := hostdtest.Start(t, config(relayConfig))
	for path, want := range map[string]string{
		"/passed":     "passed",
		"/configured": "relayed",
		"/asks":       "relayed",
	} {
		t.Run(path+" gets its socket "+want, func(t *testing.T) {
			c := h.Dial(t)
			require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
			_, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nhead", path)
			require.NoError(t, err)
			br := bufio.NewReader(c)
			res, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, 101, res.StatusCode)
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, want+"\n", line)
			_, err = io.WriteString(c, " and more")
			require.NoError(t, err)
			echoed := make([]byte, len("head and more"))
			_, err = io.ReadFull(br, echoed)
			require.NoError(t, err)
			require.Equal(t, "head and more", string(echoed))
		})
	}
}
