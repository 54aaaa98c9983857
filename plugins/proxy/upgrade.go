package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"

	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/client"
)

// upgraded is the upstream's 101 and its connection.
type upgraded struct {
	res  *client.IncomingMessage
	conn net.Conn
	head []byte
}

// HandleUpgrade passes an upgrade request upstream. On the upstream's 101
// the client gets that head, then the bytes flow both ways until each
// side ends; any other answer reaches the client as it came, and the
// connection closes after it.
func (px *Proxy) HandleUpgrade(req *sdk.Request, socket net.Conn, head []byte) {
	defer socket.Close()
	p := px.st.Load() // hostd configures a plugin before its first event
	out := p.fields(req, true)
	wd := newWatchdog(p.timeout)
	switched := make(chan upgraded, 1)
	done := make(chan outcome, 1)
	var once sync.Once
	deliver := func(o outcome) { once.Do(func() { done <- o }) }
	ev := client.Events{
		OnUpgrade: func(res *client.IncomingMessage, conn net.Conn, h []byte) {
			switched <- upgraded{res, conn, h}
			deliver(outcome{res: res})
		},
		OnResponse: func(res *client.IncomingMessage) { deliver(outcome{res: res}) },
		OnError:    func(err error) { deliver(outcome{err: err}) },
		OnClose:    func() { deliver(outcome{err: errNoAnswer}) },
	}
	creq, err := client.NewRequest(context.Background(), p.options(req.Method(), req.URL(), out.fields, ev))
	if err == nil {
		wd.watch(creq)
		err = creq.End(nil)
	}
	var o outcome
	if err == nil {
		o = <-done
		err = o.err
	}
	wd.stop()
	log := p.log.With("method", req.Method(), "url", req.URL())
	if err != nil {
		code, text := 502, "Bad Gateway"
		if errors.Is(err, errTimeout) {
			code, text = 504, "Gateway Timeout"
		}
		log.Warn("upstream failed", "status", code, "reason", err)
		_, _ = io.WriteString(socket, "HTTP/1.1 "+strconv.Itoa(code)+" "+text+"\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\nContent-Length: "+strconv.Itoa(len(text)+1)+"\r\n"+
			"Connection: close\r\n\r\n"+text+"\n")
		return
	}
	select {
	case u := <-switched:
		tunnel(socket, head, u)
	default:
		if err := answerRaw(socket, req.Method(), o.res); err != nil {
			log.Warn("upstream failed during the answer; cutting the client's connection", "reason", err)
		}
	}
}

// tunnel sends the 101 to the client, then copies bytes both ways,
// passing each side's end of file on to the other.
func tunnel(socket net.Conn, head []byte, u upgraded) {
	defer u.conn.Close()
	b := appendStatusLine(nil, u.res)
	b = appendFields(b, responseFields(u.res.RawHeaders, true))
	b = append(b, "\r\n"...)
	b = append(b, u.head...)
	if _, err := socket.Write(b); err != nil {
		return
	}
	if len(head) > 0 {
		if _, err := u.conn.Write(head); err != nil {
			return
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(u.conn, socket)
		closeWrite(u.conn)
	}()
	_, _ = io.Copy(socket, u.conn)
	closeWrite(socket)
	wg.Wait()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

// answerRaw writes an ordinary answer to an upgrade request on the
// client's socket, which is then closed: its body goes with the
// upstream's Content-Length, or else until the close.
func answerRaw(socket net.Conn, method string, res *client.IncomingMessage) error {
	defer res.Body.Close()
	b := appendStatusLine(nil, res)
	b = appendFields(b, responseFields(res.RawHeaders, false))
	b = append(b, "Connection: close\r\n\r\n"...)
	if _, err := socket.Write(b); err != nil {
		return nil // the client went away
	}
	if !bodyAllowed(method, res.StatusCode) {
		return nil
	}
	if _, err := io.Copy(socket, res.Body); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func appendStatusLine(b []byte, res *client.IncomingMessage) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(res.StatusCode), 10)
	b = append(b, ' ')
	b = append(b, res.StatusMessage...)
	return append(b, "\r\n"...)
}

func appendFields(b []byte, fields []string) []byte {
	for i := 0; i+1 < len(fields); i += 2 {
		b = append(b, fields[i]...)
		b = append(b, ": "...)
		b = append(b, fields[i+1]...)
		b = append(b, "\r\n"...)
	}
	return b
}
