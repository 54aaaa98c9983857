package earlyhints_test

import (
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

var bin string

func TestMain(m *testing.M) {
	hostdtest.Main(m, &bin, "github.com/hostd/hostd/plugins/earlyhints/cmd/earlyhints")
}

func start(t *testing.T, table string) *hostdtest.Host {
	return hostdtest.Start(t, fmt.Sprintf(`
[server]
listen = ["127.0.0.1:0"]
[plugins.hints]
cmd = %q
[plugins.hints.config]
%s
[[routes]]
path = "/"
plugin = "hints"
`, bin+"/earlyhints", table))
}

const links = `links = ["</style.css>; rel=preload; as=style", "</app.js>; rel=preload; as=script"]`

func TestEarlyHintsThenThePage(t *testing.T) {
	h := start(t, links)

	t.Run("net/http sees the 103 with both links, then the 200", func(t *testing.T) {
		var hints []textproto.MIMEHeader
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			if code == 103 {
				hints = append(hints, header)
			}
			return nil
		}}
		req, _ := http.NewRequest("GET", h.URL+"/page", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		r := h.Do(t, req).RequireStatus(200).RequireHeader("Content-Type", "text/html; charset=utf-8")
		require.Len(t, hints, 1)
		require.Equal(t, []string{"</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script"}, hints[0]["Link"])
		require.Contains(t, r.Body, `<link rel="stylesheet" href="/style.css">`)
		require.Contains(t, r.Body, `<script src="/app.js" defer></script>`)
	})

	t.Run("on the wire: the 103 comes first", func(t *testing.T) {
		out := h.Raw(t, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 5*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script\r\n\r\nHTTP/1.1 200 OK\r\n"), out)
	})

	t.Run("an HTTP/1.0 client gets no 103", func(t *testing.T) {
		out := h.Raw(t, "GET / HTTP/1.0\r\n\r\n", 5*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n"), out)
		require.NotContains(t, out, "HTTP/1.1 103")
	})
}

func TestEarlyHintsPerPathAndFromAFile(t *testing.T) {
	page := filepath.Join(t.TempDir(), "page.html")
	require.NoError(t, os.WriteFile(page, []byte("<p>from a file</p>"), 0o644))
	h := start(t, links+"\nfile = \""+page+"\"\n[plugins.hints.config.paths]\n\"/docs\" = [\"</docs.css>; rel=preload; as=style\"]\n")
	out := h.Raw(t, "GET /docs/intro HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 5*time.Second)
	require.True(t, strings.HasPrefix(out, "HTTP/1.1 103 Early Hints\r\nLink: </docs.css>; rel=preload; as=style\r\n\r\n"), out)
	require.True(t, strings.HasSuffix(out, "<p>from a file</p>"), out)
	out = h.Raw(t, "GET /other HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 5*time.Second)
	require.Contains(t, out, "Link: </style.css>; rel=preload; as=style, </app.js>")
}
