package pluginhost_test

import (
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

func frameBytes(id uint32, t protocol.Type, payload []byte) []byte {
	return append(protocol.AppendHeader(nil, id, t, len(payload)), payload...)
}

func concat(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

// FuzzPluginFrames plays a plugin that answers the request in flight
// (always stream 1 of a new instance) with arbitrary bytes, then closes
// its data plane. The host must not panic and must stay up (another
// plugin still answers), and the client must get well-formed answers or
// see its connection close: never a malformed response, never a hang.
// After a complete answer the kept-alive connection carries another
// request, which must get its own answer whole: nothing of the fuzzed
// answer may be left on the wire.
func FuzzPluginFrames(f *testing.F) {
	head := headPayload(200, protocol.HeadFlush, "Content-Type", "text/plain", "Trailer", "X-Sum")
	f.Add([]byte{})
	f.Add(frameBytes(1, protocol.TypeEnd, endPayload(200, "hello")))
	f.Add(concat(
		frameBytes(1, protocol.TypeHead, head),
		frameBytes(1, protocol.TypeBody, []byte("hello ")),
		frameBytes(1, protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{Data: []byte("world"), Trailers: byteFields([]string{"X-Sum", "1"})})),
	))
	f.Add(concat(
		frameBytes(1, protocol.TypeInfo, protocol.AppendInfo(nil, &protocol.Info{Status: 103, Fields: byteFields([]string{"Link", "</a.css>; rel=preload"})})),
		frameBytes(1, protocol.TypeSetTimeout, protocol.AppendSetTimeout(nil, protocol.SetTimeout{Millis: 60000, Callback: true})),
		frameBytes(1, protocol.TypeEnd, endPayload(404, "")),
	))
	f.Add(concat(
		frameBytes(1, protocol.TypeHead, protocol.AppendResponseHead(nil, &protocol.ResponseHead{Status: 200, Length: 5, Flags: protocol.HeadStrict})),
		frameBytes(1, protocol.TypeBody, []byte("hel")),
		frameBytes(1, protocol.TypeBody, []byte("lo")),
		frameBytes(1, protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{})),
	))
	f.Add(concat(
		frameBytes(1, protocol.TypeHead, head),
		frameBytes(1, protocol.TypeBody, []byte("partial")),
	))
	f.Add(frameBytes(1, protocol.TypeReset, []byte("handler failed")))
	f.Add(frameBytes(1, protocol.Type(99), nil))
	f.Add(frameBytes(1, protocol.TypeHead, headPayload(200, 0, "Bad Name", "x")))
	f.Add(concat(frameBytes(2, protocol.TypeEnd, endPayload(200, "other")), frameBytes(1, protocol.TypeEnd, endPayload(200, "mine"))))
	f.Add(concat(frameBytes(1, protocol.TypeEnd, endPayload(200, "once")), frameBytes(1, protocol.TypeEnd, endPayload(200, "twice"))))
	f.Add(concat(frameBytes(1, protocol.TypeCredit, protocol.AppendUint32(nil, 1<<20)), frameBytes(1, protocol.TypeEnd, endPayload(204, ""))))
	f.Add(frameLength(protocol.MaxFrame + 1))

	h := newHost(f)
	_, good := h.attach(f, "good", pluginhost.Spec{})
	good.answerAll()

	f.Fuzz(func(t *testing.T, data []byte) {
		_, p := h.attach(t, "fuzz", pluginhost.Spec{})
		c := h.dial(t)
		c.get(t, "/fuzz/")
		p.request(t)
		p.raw(data)
		p.close()

		res, _, err := c.response()
		if err == nil && !res.Close {
			// The connection is kept: the next answer must be whole.
			c.get(t, "/good/next")
			var body string
			res, body, err = c.response()
			if err == nil && (res.StatusCode != 200 || body != "good /good/next") {
				t.Fatalf("the next answer on the connection is wrong: %d %q\n%q", res.StatusCode, body, c.seen.Bytes())
			}
		}
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("malformed answer: %v\n%q", err, c.seen.Bytes())
		}
		if err != nil || res.Close {
			// The connection ends, with nothing after a complete answer.
			rest, err := io.ReadAll(c.br)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("the connection was left hanging: %v\n%q", err, c.seen.Bytes())
			}
			if len(rest) > 0 {
				t.Fatalf("bytes after the answer: %q\n%q", rest, c.seen.Bytes())
			}
		}
		g := h.dial(t)
		g.get(t, "/good/x")
		g.requireAnswer(t, 200, "good /good/x")
	})
}
