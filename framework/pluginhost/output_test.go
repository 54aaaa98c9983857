package pluginhost

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"
)

func newTestOutput() (*output, *bytes.Buffer) {
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Name: "p", Output: &buf, Level: hclog.Trace, DisableTime: true})
	return newOutput(log), &buf
}

func TestOutputLogsALineAtATime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pipe   bool
		writes []string
		want   string
	}{
		{"lines split across writes", false, []string{"hel", "lo\nwor", "ld\n"},
			"[INFO]  p: hello: stream=stderr\n[INFO]  p: world: stream=stderr\n"},
		{"CRLF and blank lines", false, []string{"a\r\n\n \nb\n"},
			"[INFO]  p: a: stream=stderr\n[INFO]  p: b: stream=stderr\n"},
		{"an unfinished line waits for its end", false, []string{"partial"}, ""},
		{"hclog JSON on the pipe is go-plugin's to log", true, []string{`{"@level":"info","@message":"hi"}` + "\n" + "plain\n"},
			"[INFO]  p: plain: stream=stderr\n"},
		{"hclog JSON relayed after Serve is just output", false, []string{`{"@message":"hi"}` + "\n"},
			`[INFO]  p: {"@message":"hi"}: stream=stderr` + "\n"},
		{"the runtime's scheduler trace at DEBUG", false, []string{"SCHED 2147483647ms: gomaxprocs=1 idleprocs=1 threads=5\nSCHED mine\n"},
			"[DEBUG] p: SCHED 2147483647ms: gomaxprocs=1 idleprocs=1 threads=5: stream=stderr\n[INFO]  p: SCHED mine: stream=stderr\n"},
		{"a panic and its trace at ERROR", false, []string{"before\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n"},
			"[INFO]  p: before: stream=stderr\n[ERROR] p: panic: boom: stream=stderr\n[ERROR] p: goroutine 1 [running]:: stream=stderr\n[ERROR] p: main.main(): stream=stderr\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, buf := newTestOutput()
			w := o.stream("stderr", tc.pipe)
			for _, s := range tc.writes {
				n, err := w.Write([]byte(s))
				require.NoError(t, err)
				require.Equal(t, len(s), n)
			}
			require.Equal(t, tc.want, buf.String())
		})
	}
}

func TestOutputKeepsTheEndOfStderrForErrors(t *testing.T) {
	o, _ := newTestOutput()
	_, _ = o.stream("stdout", false).Write([]byte("not this\n"))
	w := o.stream("stderr", true)
	_, _ = w.Write([]byte(strings.Repeat("x", 3*tailSize) + "\n"))
	_, _ = w.Write([]byte("last words\n"))
	tail := o.stderrTail()
	require.LessOrEqual(t, len(tail), tailSize)
	require.True(t, strings.HasSuffix(tail, "last words"), tail)
	require.NotContains(t, tail, "not this")
}

func TestOutputBoundsALineWithoutEnd(t *testing.T) {
	o, buf := newTestOutput()
	w := o.stream("stdout", false)
	_, _ = w.Write(bytes.Repeat([]byte("y"), maxLine+1))
	require.Equal(t, 1, strings.Count(buf.String(), "stream=stdout"), "logged in a piece rather than held")
	require.Empty(t, w.buf)
}

// FuzzOutput feeds arbitrary plugin output: no panic, no line longer than
// maxLine held, and the stderr tail bounded.
func FuzzOutput(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), 3)
	f.Add([]byte("panic: x\n\tat\r\n{\"@message\":\"m\"}\n"), 1)
	f.Add(bytes.Repeat([]byte("z"), maxLine+5), 7)
	f.Fuzz(func(t *testing.T, data []byte, step int) {
		o := newOutput(hclog.NewNullLogger())
		w := o.stream("stderr", step%2 == 0)
		if step <= 0 {
			step = 1
		}
		for len(data) > 0 {
			n := min(step, len(data))
			_, _ = w.Write(data[:n])
			data = data[n:]
		}
		if len(w.buf) > maxLine {
			t.Fatalf("holds %d bytes", len(w.buf))
		}
		if len(o.tail) > tailSize {
			t.Fatalf("tail of %d bytes", len(o.tail))
		}
	})
}
