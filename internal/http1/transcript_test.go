package http1_test

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hostd/hostd/internal/http1"
)

// A transcript is what a parser saw in a byte stream, written as the event
// log of the golden files (testdata/README.md): one line per event.
type transcript struct {
	Log []string
	// Offset is where in the input the error was found (Node's
	// bytesParsed), or -1 without an error.
	Offset int
	// Reason is the error's reason; it is not part of the log because
	// Node's wording differs from ours in places.
	Reason string
}

func (t transcript) String() string { return strings.Join(t.Log, "\n") }

// errorCode returns the HPE_* code the transcript ends with, or "".
func (t transcript) errorCode() string { return logErrorCode(t.Log) }

// logErrorCode returns the code of the "error CODE at N" line that ends
// log, or "".
func logErrorCode(log []string) string {
	if n := len(log); n > 0 {
		if rest, ok := strings.CutPrefix(log[n-1], "error "); ok {
			code, _, _ := strings.Cut(rest, " ")
			return code
		}
	}
	return ""
}

// errorLine is the log line of an error with code at offset.
func errorLine(code string, offset int) string { return fmt.Sprintf("error %s at %d", code, offset) }

// runTranscript parses raw as a stream of requests (or responses) the way
// a connection does: a head, then the body its framing calls for, then the
// next message, until the input ends, an error, an upgrade, or the end of a
// message after which the connection closes. Responses are parsed as
// answers to GET. maxHeaderSize 0 means the default. With step > 0 the
// parsers get the input step bytes at a time, as from a slow connection:
// the head parser a prefix growing by step bytes, the chunked decoder
// pieces of step bytes; the transcript must not depend on step.
func runTranscript(response bool, raw []byte, maxHeaderSize, step int) transcript {
	t := transcript{Offset: -1}
	p := http1.Parser{MaxHeaderSize: maxHeaderSize}
	d := http1.ChunkedDecoder{MaxHeaderSize: maxHeaderSize}
	var h http1.Head
	pos := 0
	fail := func(err error, base int) transcript {
		var pe *http1.ParseError
		if !errors.As(err, &pe) {
			t.Log = append(t.Log, "error "+err.Error())
			return t
		}
		t.Offset = base + pe.Offset
		t.Reason = pe.Reason
		t.Log = append(t.Log, errorLine(pe.Code, t.Offset))
		return t
	}
	for {
		rest := raw[pos:]
		if onlyLineEnds(rest) {
			return t
		}
		p.Reset()
		h = http1.Head{Fields: h.Fields[:0]}
		var err error
		for end := firstEnd(len(rest), step); ; end = nextEnd(end, len(rest), step) {
			if response {
				err = p.ParseResponse(rest[:end], &h)
			} else {
				err = p.ParseRequest(rest[:end], &h)
			}
			if err != http1.ErrNeedMore || end == len(rest) {
				break
			}
		}
		if err == http1.ErrNeedMore {
			t.Log = append(t.Log, "incomplete")
			return t
		}
		if err != nil {
			if h.Size > 0 {
				// Refused for its framing after the head was complete, as
				// llhttp does after on_headers_complete.
				t.Log = append(t.Log, headLog(response, &h)...)
			}
			return fail(err, pos)
		}
		t.Log = append(t.Log, headLog(response, &h)...)
		pos += h.Size
		kind := h.RequestBody()
		if response {
			kind = h.ResponseBody("GET")
		}
		var body []byte
		switch kind {
		case http1.BodyLength:
			if int64(len(raw)-pos) < h.ContentLength {
				body = raw[pos:]
				t.Log = append(t.Log, bodyLog(body)...)
				t.Log = append(t.Log, "incomplete")
				return t
			}
			body = raw[pos : pos+int(h.ContentLength)]
			pos += int(h.ContentLength)
		case http1.BodyUntilClose:
			body = raw[pos:]
			pos = len(raw)
		case http1.BodyChunked:
			d.Reset()
			bodyStart := pos
			for !d.Done() {
				n, data, err := d.Decode(raw[pos:firstEnd(len(raw)-pos, step)+pos], math.MaxInt)
				if n == 0 && err == nil && !d.Done() && pos < len(raw) {
					t.Log = append(t.Log, "error decoder consumed nothing")
					return t
				}
				pos += n
				body = append(body, data...)
				if err != nil {
					t.Log = append(t.Log, bodyLog(body)...)
					return fail(err, bodyStart)
				}
				if pos == len(raw) && !d.Done() {
					t.Log = append(t.Log, bodyLog(body)...)
					t.Log = append(t.Log, "incomplete")
					return t
				}
			}
		}
		t.Log = append(t.Log, bodyLog(body)...)
		if kind == http1.BodyChunked {
			for _, f := range d.Trailers() {
				t.Log = append(t.Log, fieldLog("trailer", f))
			}
		}
		t.Log = append(t.Log, "complete")
		if h.Upgrade || response && h.StatusCode == 101 {
			return t // the rest of the stream is another protocol
		}
		keepAlive := h.KeepAlive
		if kind == http1.BodyChunked {
			keepAlive = d.KeepAlive(&h)
		}
		if !keepAlive {
			// llhttp refuses anything but line ends after a message that
			// closes the connection.
			for i := pos; i < len(raw); i++ {
				if raw[i] != '\r' && raw[i] != '\n' {
					t.Offset = i + 1
					t.Log = append(t.Log, errorLine("HPE_CLOSED_CONNECTION", t.Offset))
					return t
				}
			}
			return t
		}
	}
}

// firstEnd is the length of the first piece of n bytes fed in steps.
func firstEnd(n, step int) int {
	if step <= 0 || step > n {
		return n
	}
	return step
}

// nextEnd is the end of the prefix after end when feeding n bytes in steps.
func nextEnd(end, n, step int) int { return min(end+step, n) }

// onlyLineEnds reports whether b holds only CR and LF bytes, which llhttp
// skips between messages.
func onlyLineEnds(b []byte) bool {
	for _, c := range b {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func headLog(response bool, h *http1.Head) []string {
	var log []string
	if response {
		log = append(log, "status "+strconv.Itoa(h.StatusCode), logLine("reason", escape(h.Reason)))
	} else {
		log = append(log, "method "+h.Method, logLine("url", escape(h.Target)))
	}
	log = append(log, fmt.Sprintf("version %d.%d", h.Major, h.Minor))
	for _, f := range h.Fields {
		log = append(log, fieldLog("header", f))
	}
	log = append(log, "keep-alive "+strconv.FormatBool(h.KeepAlive))
	if h.Upgrade {
		log = append(log, "upgrade true")
	}
	return log
}

// logLine is "key value", or just "key" for an empty value.
func logLine(key, value string) string {
	if value == "" {
		return key
	}
	return key + " " + value
}

func fieldLog(kind string, f http1.Field) string {
	return logLine(kind+" "+escape(f.Name)+":", escape(f.Value))
}

func bodyLog(body []byte) []string {
	if len(body) == 0 {
		return nil
	}
	return []string{"body " + escape(body)}
}

// escape writes b with the escapes of testdata/README.md: \\, \r, \n, \t,
// \xHH for the other bytes outside printable ASCII, and \x20 for a space
// at either end.
func escape(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		switch {
		case c == '\\':
			sb.WriteString(`\\`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == ' ' && (i == 0 || i == len(b)-1):
			sb.WriteString(`\x20`)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	return sb.String()
}

// unescape reverses escape for the raw bytes of an http block: it drops
// the block's own line breaks and decodes \\, \r, \n, \t and \xHH.
func unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			continue
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("backslash at the end of %q", s)
		}
		i++
		switch s[i] {
		case '\\':
			out = append(out, '\\')
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("short \\x escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad \\x escape in %q: %w", s, err)
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c in %q", s[i], s)
		}
	}
	return out, nil
}
