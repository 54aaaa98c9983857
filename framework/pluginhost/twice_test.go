package pluginhost_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// A plugin that answers a stream twice: whatever follows the end of a
// response is dropped, the client gets the first answer whole, and the
// next request on its connection gets its own answer, not the leftovers.
func TestAPluginThatAnswersTwice(t *testing.T) {
	cases := []struct {
		name  string
		first func(p *peer, id uint32)
		then  func(p *peer, id uint32)
		// status and body of the first answer.
		status int
		body   string
	}{
		{
			name:   "two End frames",
			first:  func(p *peer, id uint32) { p.answer(id, 200, "first") },
			then:   func(p *peer, id uint32) { p.answer(id, 200, "second") },
			status: 200, body: "first",
		},
		{
			name:   "an End without a head after an End",
			first:  func(p *peer, id uint32) { p.answer(id, 200, "first") },
			then:   func(p *peer, id uint32) { p.end(id, "second") },
			status: 200, body: "first",
		},
		{
			name:  "a head after End",
			first: func(p *peer, id uint32) { p.answer(id, 200, "first") },
			then: func(p *peer, id uint32) {
				p.head(id, 500, protocol.HeadFlush, "X-Second", "1")
				p.body(id, "second")
			},
			status: 200, body: "first",
		},
		{
			name: "a streamed answer, then another",
			first: func(p *peer, id uint32) {
				p.head(id, 200, protocol.HeadFlush)
				p.body(id, "fir")
				p.end(id, "st")
			},
			then: func(p *peer, id uint32) {
				p.head(id, 200, protocol.HeadFlush)
				p.body(id, "second")
				p.end(id, "")
			},
			status: 200, body: "first",
		},
		{
			name:   "a Reset after End",
			first:  func(p *peer, id uint32) { p.answer(id, 200, "first") },
			then:   func(p *peer, id uint32) { p.send(id, protocol.TypeReset, []byte("too late")) },
			status: 200, body: "first",
		},
		{
			name:   "an End after a Reset",
			first:  func(p *peer, id uint32) { p.send(id, protocol.TypeReset, []byte("handler failed")) },
			then:   func(p *peer, id uint32) { p.answer(id, 200, "second") },
			status: 500, body: "Internal Server Error\n",
		},
		{
			name: "an End after an Info and an End",
			first: func(p *peer, id uint32) {
				p.send(id, protocol.TypeInfo, protocol.AppendInfo(nil, &protocol.Info{Status: 103, Fields: byteFields([]string{"Link", "</a.css>"})}))
				p.answer(id, 200, "first")
			},
			then:   func(p *peer, id uint32) { p.answer(id, 200, "second") },
			status: 200, body: "first",
		},
	}
	h := newHost(t)
	in, p := h.attach(t, "p", pluginhost.Spec{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(t)
			c.get(t, "/p/1")
			s := p.request(t)
			tc.first(p, s.id)
			tc.then(p, s.id)
			c.requireAnswer(t, tc.status, tc.body)

			c.get(t, "/p/2")
			s2 := p.request(t)
			tc.then(p, s.id) // once more, now that another stream is open
			p.answer(s2.id, 200, "own answer")
			c.requireAnswer(t, 200, "own answer")
			require.Zero(t, in.OpenStreams())
		})
	}
}
