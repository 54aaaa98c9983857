package pluginhost

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/internal/sysmon"
)

// maxLine bounds a line of plugin output held while waiting for its end;
// a longer one is logged in pieces.
const maxLine = 64 << 10

// tailSize is how much of its stderr a plugin that fails to start shows
// in the error.
const tailSize = 2 << 10

// output puts a plugin's stdout and stderr in the host's log, a line at a
// time at INFO with the plugin's name (a Go panic's trace at ERROR), and keeps the end of its stderr
// for the error of a plugin that fails to start.
//
// A plugin's output reaches the host three ways: its stderr pipe (what it
// writes before go-plugin's Serve, and the SDK's logger, whose JSON lines
// go-plugin logs itself at their own level), and, after Serve, its
// os.Stdout and os.Stderr relayed over go-plugin's gRPC stdio stream.
type output struct {
	log hclog.Logger

	mu   sync.Mutex
	tail []byte // the last tailSize bytes of stderr
}

func newOutput(log hclog.Logger) *output { return &output{log: log} }

// stream returns the writer for one of the plugin's streams.
func (o *output) stream(name string, pipe bool) *lineWriter {
	return &lineWriter{o: o, name: name, pipe: pipe}
}

// stderrTail returns the end of the plugin's stderr, one line.
func (o *output) stderrTail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(strings.Fields(string(o.tail)), " ")
}

// line logs one line. It reports whether the line starts a Go panic or
// fatal error, whose trace the writer then logs at ERROR.
func (o *output) line(stream string, pipe, inPanic bool, line []byte) bool {
	if len(bytes.TrimSpace(line)) == 0 {
		return false
	}
	if stream == "stderr" {
		o.mu.Lock()
		o.tail = append(o.tail, line...)
		o.tail = append(o.tail, '\n')
		if len(o.tail) > tailSize {
			o.tail = append(o.tail[:0], o.tail[len(o.tail)-tailSize:]...)
		}
		o.mu.Unlock()
	}
	if pipe && json.Valid(line) && bytes.Contains(line, []byte(`"@message"`)) {
		return false // an hclog line: go-plugin logs it at its level
	}
	if inPanic || bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: ")) {
		o.log.Error(string(line), "stream", stream)
		return true
	}
	if sysmon.TraceLine(line) {
		// The runtime's, once per 24.8 days of uptime (see sysmon).
		o.log.Debug(string(line), "stream", stream)
		return false
	}
	o.log.Info(string(line), "stream", stream)
	return false
}

// lineWriter splits one stream into lines.
type lineWriter struct {
	o    *output
	name string
	pipe bool

	mu      sync.Mutex
	buf     []byte
	inPanic bool // a panic started: the rest is its trace
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.inPanic = w.o.line(w.name, w.pipe, w.inPanic, bytes.TrimRight(w.buf[:i], "\r")) || w.inPanic
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.inPanic = w.o.line(w.name, w.pipe, w.inPanic, w.buf) || w.inPanic
		w.buf = nil
	}
	return len(p), nil
}

// quietLines is the logger go-plugin gets. go-plugin logs each line of a
// plugin's stderr that is not hclog JSON by itself, mostly at DEBUG; the
// output above logs those at INFO, so the copies go-plugin makes (a
// message without key-value pairs, from the logger it names after the
// executable) are dropped.
type quietLines struct{ hclog.Logger }

func (q quietLines) Named(name string) hclog.Logger {
	return rawLineFilter{q.Logger.Named(name)}
}

type rawLineFilter struct{ hclog.Logger }

func (f rawLineFilter) Log(level hclog.Level, msg string, args ...any) {
	if len(args) > 0 {
		f.Logger.Log(level, msg, args...)
	}
}
func (f rawLineFilter) Trace(msg string, args ...any) { f.Log(hclog.Trace, msg, args...) }
func (f rawLineFilter) Debug(msg string, args ...any) { f.Log(hclog.Debug, msg, args...) }
func (f rawLineFilter) Info(msg string, args ...any)  { f.Log(hclog.Info, msg, args...) }
func (f rawLineFilter) Warn(msg string, args ...any)  { f.Log(hclog.Warn, msg, args...) }
func (f rawLineFilter) Error(msg string, args ...any) { f.Log(hclog.Error, msg, args...) }
