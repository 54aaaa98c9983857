package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// ErrMalformed is the error for a response the reader cannot frame.
var ErrMalformed = errors.New("loadgen: malformed response")

// response is what the reader keeps of one response to a GET: enough to
// count it and to know whether the connection goes on.
type response struct {
	status int
	close  bool  // the server closes the connection after it
	bytes  int64 // wire bytes read, head and body
	framing
}

// read reads one response, skipping interim 1xx responses, and discards
// its body. Lines longer than br's buffer are refused.
func (r *response) read(br *bufio.Reader) error {
	for {
		if err := r.readHead(br); err != nil {
			return err
		}
		if r.status >= 200 || r.status == 101 {
			break
		}
	}
	return r.readBody(br)
}

// framing is the part of the head that decides how the body ends.
type framing struct {
	length  int64 // -1: none given
	chunked bool
}

var (
	hContentLength    = []byte("content-length")
	hTransferEncoding = []byte("transfer-encoding")
	hConnection       = []byte("connection")
)

func (r *response) readHead(br *bufio.Reader) error {
	line, err := r.line(br)
	if err != nil {
		return err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return ErrMalformed
	}
	http10 := line[7] == '0'
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return ErrMalformed
	}
	r.status, r.close = code, http10
	f := framing{length: -1}
	for {
		line, err := r.line(br)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return ErrMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, hContentLength):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return ErrMalformed
			}
			f.length = n
		case bytes.EqualFold(name, hTransferEncoding):
			f.chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, hConnection):
			switch {
			case bytes.EqualFold(value, []byte("close")):
				r.close = true
			case bytes.EqualFold(value, []byte("keep-alive")):
				r.close = false
			}
		}
	}
	r.framing = f
	return nil
}

func (r *response) readBody(br *bufio.Reader) error {
	f := r.framing
	switch {
	case r.status == 101 || r.status == 204 || r.status == 304 || r.status < 200:
		if r.status == 101 {
			r.close = true // the connection is no longer HTTP
		}
		return nil
	case f.chunked:
		return r.readChunked(br)
	case f.length >= 0:
		return r.discard(br, f.length)
	}
	// No framing: the body runs to the end of the connection.
	r.close = true
	n, err := io.Copy(io.Discard, br)
	r.bytes += n
	return err
}

func (r *response) readChunked(br *bufio.Reader) error {
	for {
		line, err := r.line(br)
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return ErrMalformed
		}
		if n == 0 {
			break
		}
		if err := r.discard(br, n); err != nil {
			return err
		}
		if line, err := r.line(br); err != nil || len(line) != 0 {
			return cmpErr(err, ErrMalformed)
		}
	}
	for { // trailers, up to the empty line
		line, err := r.line(br)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// line returns the next line without its CRLF (or LF). The slice is valid
// until the next read.
func (r *response) line(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	r.bytes += int64(len(line))
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func (r *response) discard(br *bufio.Reader, n int64) error {
	for n > 0 {
		step := int(min(n, 1<<30))
		m, err := br.Discard(step)
		r.bytes += int64(m)
		n -= int64(m)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
