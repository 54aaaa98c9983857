package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// pipeResult is a byte-moving figure: MB/s through hostd and through the
// plain loopback baseline, one of each per round.
type pipeResult struct {
	plain, hostd []float64
}

// ratios are hostd over plain, round by round.
func (p pipeResult) ratios() []float64 {
	r := make([]float64, len(p.hostd))
	for i := range p.hostd {
		r[i] = p.hostd[i] / p.plain[i]
	}
	return r
}

// chunk is what the clients write, 256 KiB at a time.
var chunk = make([]byte, 256<<10)

// runPipes measures the CONNECT tunnel against a plain TCP forwarder and
// the upgraded echo against a plain TCP echo, in interleaved rounds.
//
// Tunnel: the client sends N bytes through the hop (tunnel plugin or
// forwarder) to a sink in this process, half-closes, and stops the clock
// when the sink's count of bytes comes back. Upgrade: the client sends N
// bytes to the echo (echo plugin or plain echo) and stops the clock when
// it has read all N back.
func (b *bench) runPipes(ctx context.Context, res *results) error {
	sink, err := startSink()
	if err != nil {
		return err
	}
	defer sink.Close()
	fwd, err := b.startTCPHelper(ctx, "forward", sink.Addr().String())
	if err != nil {
		return err
	}
	echo, err := b.startTCPHelper(ctx, "echo", "")
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	h, err := b.startHostd(ctx, "hostd-pipes", addr, b.streamConfig(addr), "/echo")
	if err != nil {
		return err
	}
	n := b.opts.pipeMiB << 20
	runs := map[string]func() (float64, error){
		"tunnel/plain":  func() (float64, error) { return sendToSink(ctx, fwd.addr, nil, n) },
		"tunnel/hostd":  func() (float64, error) { return sendToSink(ctx, h.addr, connectTo(sink.Addr().String()), n) },
		"upgrade/plain": func() (float64, error) { return echoBack(ctx, echo.addr, nil, n) },
		"upgrade/hostd": func() (float64, error) { return echoBack(ctx, h.addr, upgradeEcho, n) },
	}
	for r := range b.opts.rounds {
		for _, fig := range []struct {
			name string
			out  *pipeResult
		}{{"tunnel", &res.tunnel}, {"upgrade", &res.upgrade}} {
			for _, via := range rotate([]string{"plain", "hostd"}, r) {
				mbps, err := runs[fig.name+"/"+via]()
				if err == nil {
					err = errors.Join(h.alive(), fwd.alive(), echo.alive())
				}
				if err != nil {
					return fmt.Errorf("%s through %s: %w", fig.name, via, err)
				}
				if via == "plain" {
					fig.out.plain = append(fig.out.plain, mbps)
				} else {
					fig.out.hostd = append(fig.out.hostd, mbps)
				}
				b.logf("round %d/%d %-7s %-5s %6d MiB  %7.0f MB/s", r+1, b.opts.rounds, fig.name, via, b.opts.pipeMiB, mbps)
			}
		}
	}
	return nil
}

// handshake turns a fresh connection into a byte pipe (CONNECT, upgrade),
// reading the answer's head from br.
type handshake func(c net.Conn, br *bufio.Reader) error

// connectTo asks hostd for a CONNECT tunnel to target.
func connectTo(target string) handshake {
	return func(c net.Conn, br *bufio.Reader) error {
		if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
			return err
		}
		return expectStatus(br, "200")
	}
}

// upgradeEcho asks hostd's echo plugin to switch to a byte echo.
func upgradeEcho(c net.Conn, br *bufio.Reader) error {
	if _, err := io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: bench\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n"); err != nil {
		return err
	}
	return expectStatus(br, "101")
}

// expectStatus reads a response head and checks its status code.
func expectStatus(br *bufio.Reader, code string) error {
	status, err := br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if f := strings.Fields(status); len(f) < 2 || f[1] != code {
		return fmt.Errorf("answer %q, want %s", strings.TrimSpace(status), code)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
		if line == "\r\n" || line == "\n" {
			return nil
		}
	}
}

// dialPipe connects to addr, runs the handshake if any, and ties the
// connection's life to ctx and a deadline generous for n bytes.
func dialPipe(ctx context.Context, addr string, hs handshake, n int64) (*net.TCPConn, *bufio.Reader, func(), error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	done := func() { stop(); c.Close() }
	// At least 20 MB/s, or the run has failed.
	_ = c.SetDeadline(time.Now().Add(10*time.Second + time.Duration(n/20e6)*time.Second))
	br := bufio.NewReaderSize(c, 64<<10)
	if hs != nil {
		if err := hs(c, br); err != nil {
			done()
			return nil, nil, nil, err
		}
	}
	return c.(*net.TCPConn), br, done, nil
}

// sendN writes n bytes and half-closes.
func sendN(c *net.TCPConn, n int64) error {
	for n > 0 {
		m, err := c.Write(chunk[:min(n, int64(len(chunk)))])
		n -= int64(m)
		if err != nil {
			return err
		}
	}
	return c.CloseWrite()
}

// sendToSink sends n bytes through addr to the sink and returns MB/s.
func sendToSink(ctx context.Context, addr string, hs handshake, n int64) (float64, error) {
	c, br, done, err := dialPipe(ctx, addr, hs, n)
	if err != nil {
		return 0, err
	}
	defer done()
	start := time.Now()
	if err := sendN(c, n); err != nil {
		return 0, err
	}
	var count [8]byte
	if _, err := io.ReadFull(br, count[:]); err != nil {
		return 0, fmt.Errorf("reading the sink's count: %w", err)
	}
	elapsed := time.Since(start)
	if got := int64(binary.BigEndian.Uint64(count[:])); got != n {
		return 0, fmt.Errorf("the sink got %d bytes of %d", got, n)
	}
	return mbps(n, elapsed), nil
}

// echoBack sends n bytes to the echo at addr, reads them back meanwhile,
// and returns MB/s.
func echoBack(ctx context.Context, addr string, hs handshake, n int64) (float64, error) {
	c, br, done, err := dialPipe(ctx, addr, hs, n)
	if err != nil {
		return 0, err
	}
	defer done()
	start := time.Now()
	sent := make(chan error, 1)
	go func() { sent <- sendN(c, n) }()
	got, err := readN(br, n)
	elapsed := time.Since(start)
	if err := errors.Join(<-sent, err); err != nil {
		return 0, err
	}
	if got != n {
		return 0, fmt.Errorf("read back %d bytes of %d", got, n)
	}
	return mbps(n, elapsed), nil
}

// readN reads until n bytes have come or the stream ends.
func readN(r io.Reader, n int64) (int64, error) {
	buf := make([]byte, 256<<10)
	var got int64
	for got < n {
		m, err := r.Read(buf)
		got += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// startSink listens on loopback; each connection is read to its end, then
// answered with the count of bytes as 8 bytes big-endian.
func startSink() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				n, err := readN(c, 1<<62)
				if err != nil {
					return
				}
				var count [8]byte
				binary.BigEndian.PutUint64(count[:], uint64(n))
				_, _ = c.Write(count[:])
			}()
		}
	}()
	return l, nil
}

// mbps is n bytes over d in MB/s (10^6 bytes).
func mbps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }
