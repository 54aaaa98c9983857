package http1_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// goldenCase is one case of a testdata/*.md file: a heading, the raw bytes,
// the transcript hostd must produce and, where hostd is deliberately
// stricter than Node, the transcript Node produces instead.
type goldenCase struct {
	File, Name string
	Line       int // of the heading, for messages
	Response   bool
	MaxHeader  int
	Raw        []byte
	Want       []string
	// Node is Node's transcript when it differs from Want, nil otherwise.
	Node []string
}

// goldenMeta is the optional <!-- meta={...} --> line of a case.
type goldenMeta struct {
	Type string `json:"type"` // "request" (the default) or "response"
	Max  int    `json:"max"`  // MaxHeaderSize, 0 for the default
}

// loadGolden reads every case of testdata/*.md.
func loadGolden(tb testing.TB) []goldenCase {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.md"))
	require.NoError(tb, err)
	var cases []goldenCase
	for _, f := range files {
		if filepath.Base(f) == "README.md" {
			continue
		}
		cs, err := parseGoldenFile(f)
		require.NoError(tb, err)
		cases = append(cases, cs...)
	}
	require.NotEmpty(tb, cases, "no golden cases found")
	return cases
}

// parseGoldenFile reads the cases of one Markdown file. A case starts at
// a "### name" heading and holds one ```http block, one ```log block and
// optionally a ```log node block; other text is commentary.
func parseGoldenFile(path string) ([]goldenCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		cases []goldenCase
		cur   *goldenCase
		block string // fence info of the open block, "" outside blocks
		body  []string
		seen  = map[string]bool{}
		hasIO = map[string]bool{}
	)
	file := filepath.Base(path)
	errorf := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...))
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if block != "" {
			if line != "```" {
				body = append(body, line)
				continue
			}
			if cur == nil {
				return nil, errorf(n, "code block before the first case")
			}
			if hasIO[block] {
				return nil, errorf(n, "case %q has two %q blocks", cur.Name, block)
			}
			hasIO[block] = true
			switch block {
			case "http":
				raw, err := unescape(strings.Join(body, "\n"))
				if err != nil {
					return nil, errorf(n, "%v", err)
				}
				cur.Raw = raw
			case "log":
				cur.Want = body
			case "log node":
				cur.Node = body
			default:
				return nil, errorf(n, "unknown block %q", block)
			}
			block, body = "", nil
			continue
		}
		switch {
		case strings.HasPrefix(line, "### "):
			name := strings.TrimSpace(line[4:])
			if seen[name] {
				return nil, errorf(n, "duplicate case name %q", name)
			}
			seen[name] = true
			cases = append(cases, goldenCase{File: file, Name: name, Line: n})
			cur = &cases[len(cases)-1]
			hasIO = map[string]bool{}
		case strings.HasPrefix(line, "<!-- meta="):
			if cur == nil {
				return nil, errorf(n, "meta before the first case")
			}
			js := strings.TrimSuffix(strings.TrimPrefix(line, "<!-- meta="), " -->")
			var m goldenMeta
			if err := json.Unmarshal([]byte(js), &m); err != nil {
				return nil, errorf(n, "bad meta: %v", err)
			}
			switch m.Type {
			case "", "request":
			case "response":
				cur.Response = true
			default:
				return nil, errorf(n, "unknown type %q", m.Type)
			}
			cur.MaxHeader = m.Max
		case strings.HasPrefix(line, "```"):
			block = strings.TrimSpace(line[3:])
			body = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if block != "" {
		return nil, fmt.Errorf("%s: unterminated code block", path)
	}
	for _, c := range cases {
		if c.Raw == nil || c.Want == nil {
			return nil, fmt.Errorf("%s:%d: case %q needs an http and a log block", path, c.Line, c.Name)
		}
	}
	return cases, nil
}

// TestGolden runs every golden case through the parsers, fed whole and
// then byte by byte, and compares the transcripts with the expected ones.
func TestGolden(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(strings.TrimSuffix(c.File, ".md")+"/"+c.Name, func(t *testing.T) {
			got := runTranscript(c.Response, c.Raw, c.MaxHeader, 0)
			require.Equal(t, c.Want, got.Log, "%s:%d: transcript of %q", c.File, c.Line, c.Raw)
			split := runTranscript(c.Response, c.Raw, c.MaxHeader, 1)
			require.Equal(t, splitInvariant(got), splitInvariant(split), "%s:%d: fed byte by byte", c.File, c.Line)
		})
	}
}

// TestGoldenFiles checks the golden corpus itself: enough cases in every
// topic, and every refusal the package promises covered.
func TestGoldenFiles(t *testing.T) {
	cases := loadGolden(t)
	require.GreaterOrEqual(t, len(cases), 120, "golden cases")
	perFile := map[string]int{}
	codes := map[string]bool{}
	for _, c := range cases {
		perFile[c.File]++
		codes[logErrorCode(c.Want)] = true
	}
	for _, topic := range []string{"request-line", "headers", "content-length", "transfer-encoding",
		"chunked", "trailers", "pipelining", "response", "smuggling"} {
		require.GreaterOrEqual(t, perFile[topic+".md"], 5, "cases in %s.md", topic)
	}
	for _, code := range []string{
		"HPE_INVALID_METHOD", "HPE_INVALID_URL", "HPE_INVALID_CONSTANT", "HPE_INVALID_VERSION",
		"HPE_INVALID_STATUS", "HPE_INVALID_HEADER_TOKEN", "HPE_UNEXPECTED_SPACE", "HPE_CR_EXPECTED",
		"HPE_LF_EXPECTED", "HPE_STRICT", "HPE_INVALID_CONTENT_LENGTH", "HPE_UNEXPECTED_CONTENT_LENGTH",
		"HPE_INVALID_TRANSFER_ENCODING", "HPE_INVALID_CHUNK_SIZE", "HPE_HEADER_OVERFLOW",
		"HPE_PAUSED_H2_UPGRADE", "HPE_CLOSED_CONNECTION",
	} {
		require.True(t, codes[code], "no golden case ends with %s", code)
	}
}

// splitInvariant is what must not depend on how the input is split: the
// whole transcript, except where a size limit is reached. Like llhttp, the
// parser counts a field that the input ends in when it ends, so it finds
// an overflow at the end of the piece where the count reaches the limit.
func splitInvariant(t transcript) transcript {
	switch code := t.errorCode(); code {
	case "HPE_HEADER_OVERFLOW", "HPE_CHUNK_EXTENSIONS_OVERFLOW":
		t.Log = append(slices.Clone(t.Log[:len(t.Log)-1]), "error "+code)
		t.Offset = -1
	}
	return t
}
