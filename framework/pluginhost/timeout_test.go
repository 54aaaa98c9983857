package pluginhost_test

import (
	"testing"
	"time"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// A plugin that does not answer within its RequestTimeout: the client
// gets 504 and the plugin an Abort.
func TestAPluginPastItsRequestTimeoutGets504(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "p", pluginhost.Spec{RequestTimeout: 20 * time.Millisecond})
	c := h.dial(t)
	c.get(t, "/p/")
	s := p.request(t)
	c.requireAnswer(t, 504, "Gateway Timeout\n")
	s.await(t, protocol.TypeAbort)
}

// A plugin's SetTimeout with a callback: the host tells it when the
// socket has been idle that long, and the response goes on.
func TestAPluginHearsItsSocketTimeout(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "p", pluginhost.Spec{})
	c := h.dial(t)
	c.get(t, "/p/")
	s := p.request(t)
	p.send(s.id, protocol.TypeSetTimeout, protocol.AppendSetTimeout(nil, protocol.SetTimeout{Millis: 20, Callback: true}))
	s.await(t, protocol.TypeTimeout)
	p.answer(s.id, 200, "late but fine")
	c.requireAnswer(t, 200, "late but fine")
}
