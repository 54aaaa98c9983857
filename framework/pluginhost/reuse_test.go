package pluginhost_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// A stream that ends goes back to a pool and serves a later request. The
// instance's reader looks a frame's stream up, then delivers the frame; a
// stream ending in between must not receive it once it serves another
// request. Whether the pool hands the same stream to the next request is
// up to sync.Pool, so the test tries a number of times.
func TestALateFrameNeverReachesTheNextStream(t *testing.T) {
	type pause struct {
		found   bool
		release chan struct{}
	}
	paused := make(chan pause)
	hooks := pluginhost.Hooks{Frame: func(f protocol.Frame, found bool) {
		if f.Type == protocol.TypeBody && string(f.Payload) == "late" {
			pz := pause{found, make(chan struct{})}
			paused <- pz
			<-pz.release
		}
	}}
	h := newHost(t)
	in, p := h.attachHooked(t, "p", pluginhost.Spec{}, hooks)
	c := h.dial(t)
	raced := 0
	for range 40 {
		c.get(t, "/p/first")
		s := p.request(t)
		p.answer(s.id, 200, "first")
		p.body(s.id, "late")
		var pz pause
		select {
		case pz = <-paused:
		case <-time.After(patience):
			t.Fatal("the late frame never reached the reader")
		}
		// The first stream ends and is pooled while the reader holds
		// its late frame; the next request takes a stream from the pool.
		c.requireAnswer(t, 200, "first")
		c.get(t, "/p/second")
		s2 := p.request(t)
		close(pz.release)
		p.answer(s2.id, 200, "second")
		c.requireAnswer(t, 200, "second")
		if pz.found {
			raced++
		}
	}
	require.NotZero(t, raced, "the reader never found the first stream still open: the race was not run")
	require.Zero(t, in.OpenStreams())
}

// An instance whose data plane ends fails the streams it had open; one of
// them that ended meanwhile may already serve another instance's request,
// which must not fail with it.
func TestADyingInstanceFailsOnlyItsOwnStreams(t *testing.T) {
	h := newHost(t)
	_, good := h.attach(t, "good", pluginhost.Spec{})
	// Each try waits for the server to notice a client gone (a sweeper
	// tick): a few are enough, the pool reuses the stream most times.
	for range 8 {
		dying := make(chan struct{})
		release := make(chan struct{})
		hooks := pluginhost.Hooks{Death: func() {
			close(dying)
			<-release
		}}
		_, bad := h.attachHooked(t, "bad", pluginhost.Spec{}, hooks)

		c := h.dial(t)
		c.get(t, "/bad/x")
		bad.request(t)
		bad.close()
		select {
		case <-dying:
		case <-time.After(patience):
			t.Fatal("the instance did not see its data plane end")
		}
		// The client gives up: its stream ends and goes back to the
		// pool while the dying instance still holds it in its list.
		c.conn.Close()
		h.awaitServed(t, "/bad/x")

		g := h.dial(t)
		g.get(t, "/good/y")
		s := good.request(t)
		close(release)
		good.answer(s.id, 200, "good")
		g.requireAnswer(t, 200, "good")
	}
}

// awaitServed waits until ServeHTTP has returned for target.
func (h *host) awaitServed(t testing.TB, target string) {
	t.Helper()
	for {
		select {
		case got := <-h.served:
			if got == target {
				return
			}
		case <-time.After(patience):
			t.Fatalf("%s was not served", target)
		}
	}
}
