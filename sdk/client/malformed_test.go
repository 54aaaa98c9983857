package client_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/sdk/client"
)

//go:embed testdata/get.js
var getJS []byte

// rawServer answers every connection with raw once it has read a request
// head, then closes it.
func rawServer(t *testing.T, raw string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 0, 4096)
				tmp := make([]byte, 4096)
				for !strings.Contains(string(buf), "\r\n\r\n") {
					n, err := c.Read(tmp)
					if err != nil {
						return
					}
					buf = append(buf, tmp[:n]...)
				}
				_, _ = c.Write([]byte(raw))
			}()
		}
	}()
	return ln.Addr().String()
}

type outcome struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ours gets addr with the client and reports what Node's script would.
func ours(addr string) outcome {
	res, err := client.Get(context.Background(), "http://"+addr+"/", &client.Options{NoAgent: true})
	var o outcome
	if err == nil {
		o.Status = res.StatusCode
		_, err = io.Copy(io.Discard, res.Body)
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		o.Code, o.Message = ce.Code, ce.Message
	} else if err != nil {
		o.Code, o.Message = "?", err.Error()
	}
	return o
}

var malformed = []struct {
	name, raw string
	want      outcome // what Node v20 reports, checked by the test
}{
	{"Content-Length with Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		outcome{Code: "HPE_INVALID_TRANSFER_ENCODING"}},
	{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
		outcome{Status: 200, Code: "HPE_INVALID_CHUNK_SIZE"}},
	{"bad status code", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", outcome{Code: "HPE_INVALID_STATUS"}},
	{"not HTTP", "HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", outcome{Code: "HPE_INVALID_CONSTANT"}},
	{"bad version", "HTTP/1.x 200 OK\r\nContent-Length: 0\r\n\r\n", outcome{Code: "HPE_INVALID_VERSION"}},
	{"bad header name", "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n", outcome{Code: "HPE_INVALID_HEADER_TOKEN"}},
	{"two Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", outcome{Code: "HPE_UNEXPECTED_CONTENT_LENGTH"}},
	{"bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nab", outcome{Code: "HPE_INVALID_CONTENT_LENGTH"}},
	{"oversized head", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 17<<10) + "\r\nContent-Length: 0\r\n\r\n", outcome{Code: "HPE_HEADER_OVERFLOW"}},
	{"closed before a byte", "", outcome{Code: "ECONNRESET", Message: "socket hang up"}},
	{"closed in the head", "HTTP/1.1 200 OK\r\nContent-Le", outcome{Code: "ECONNRESET", Message: "socket hang up"}},
	{"closed in the body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", outcome{Status: 200, Code: "ECONNRESET", Message: "aborted"}},
	{"closed in a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", outcome{Status: 200, Code: "ECONNRESET", Message: "aborted"}},
	{"body until close", "HTTP/1.1 200 OK\r\n\r\nall of it", outcome{Status: 200}},
}

// Each malformed response is refused with llhttp's code, as Node's client
// refuses it; the test checks Node's answer too, so the table cannot
// drift from Node.
func TestMalformedResponsesAgainstNode(t *testing.T) {
	bin := testutil.Node(t)
	var ports []string
	addrs := make([]string, len(malformed))
	for i, tc := range malformed {
		addrs[i] = rawServer(t, tc.raw)
		_, p, _ := net.SplitHostPort(addrs[i])
		ports = append(ports, p)
	}
	script := filepath.Join(t.TempDir(), "get.js")
	require.NoError(t, os.WriteFile(script, getJS, 0o600))
	out, err := exec.Command(bin, append([]string{script}, ports...)...).Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(malformed))
	for i, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			var node outcome
			require.NoError(t, json.Unmarshal([]byte(lines[i]), &node))
			require.Equal(t, tc.want.Code, node.Code, "Node: %+v", node)
			require.Equal(t, tc.want.Status, node.Status, "Node: %+v", node)
			if tc.want.Message != "" {
				require.Equal(t, tc.want.Message, node.Message)
			}
			got := ours(addrs[i])
			require.Equal(t, node.Code, got.Code, "ours: %+v, Node: %+v", got, node)
			require.Equal(t, node.Status, got.Status, "ours: %+v", got)
			if strings.HasPrefix(node.Code, "HPE_") {
				require.True(t, strings.HasPrefix(got.Message, "Parse Error: "), got.Message)
			} else {
				require.Equal(t, node.Message, got.Message)
			}
		})
	}
}
