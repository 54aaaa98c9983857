package http1

import "github.com/hostd/hostd/internal/httpspec"

// Start-line states, after llhttp's request and response nodes.
const (
	stStart        uint8 = iota // CR and LF before a message
	stMethod                    // the method, matched against llhttp's trie
	stSpaceAfter                // the space after the method
	stSpaces                    // more spaces, then the target
	stURLStart                  // first byte of an origin, asterisk or absolute form
	stURLSchema                 // "scheme" of an absolute form
	stURLSlashes                // "//" after "scheme:"
	stURLServer                 // authority
	stURLServerAt               // authority after its '@'
	stURLPath                   // path, query and fragment
	stURLCR                     // LF after a CR that ends an HTTP/0.9 request line
	stURLAfterCRLF              // first byte after that line
	stURLAfterSP                // first byte after the space that ends the target
	stProtoStart                // more spaces, then the protocol
	stProto                     // "HTTP", "RTSP" or "ICE"
	stSlash                     // '/' after the protocol
	stMajor
	stDot
	stMinor
	stLineCR    // CR ending the request line
	stLineLF    // LF ending the request line
	stPreface   // the rest of the HTTP/2 preface after PRI * HTTP/2.0
	stVersionSP // SP after a response's version
	stStatus    // three status digits
	stStatusEnd // SP, or the CR ending the status line
	stReason    // reason phrase
	stStatusLF  // LF ending the status line
	stFields    // the field section, parsed by p.fs
)

const preface = "\r\n\r\nSM\r\n\r\n"

var protocols = [...]string{"HTTP", "RTSP", "ICE"}

// startLine advances through the start line from i. It returns the offset
// where it stopped: the end of buf, or the first byte of the field
// section with p.state == stFields.
func (p *Parser) startLine(buf []byte, i int) (int, *ParseError) {
	for ; i < len(buf) && p.state != stFields; i++ {
		c := buf[i]
		switch p.state {
		case stStart:
			if c == '\r' || c == '\n' {
				continue
			}
			p.mark, p.match = i, 0
			p.state = stMethod
			if p.response {
				p.state = stProto
				if v, ok := commonVersion(buf[i:], " "); ok {
					p.major, p.minor = 1, v
					p.state, p.status = stStatus, 0
					i += len("HTTP/1.1 ") - 1
					continue
				}
			}
			i--

		case stMethod:
			id, n := matchMethod(buf[p.mark:])
			if id < 0 {
				if p.mark+n == len(buf) {
					return len(buf), nil
				}
				return i, fail(ErrInvalidMethod, "Invalid method encountered", p.mark+n)
			}
			p.method = int8(id)
			i = p.mark + n - 1
			p.state = stSpaceAfter
		case stSpaceAfter:
			if c != ' ' {
				return i, fail(ErrInvalidMethod, "Expected space after method", i)
			}
			p.state = stSpaces
		case stSpaces:
			if c == ' ' {
				continue
			}
			if c == '\t' || c == '\f' {
				return i, fail(ErrInvalidURL, "Invalid characters in url (strict mode)", i+1)
			}
			p.target = i
			p.fs.startSpan(i)
			p.state = stURLStart
			if llMethods[p.method].name == "CONNECT" {
				p.state = stURLServer
			}
			i--

		case stURLStart:
			switch {
			case c == '/' || c == '*':
				p.state = stURLPath
			case isAlpha(c):
				p.state = stURLSchema
			case c == ' ' || c == '\r' || c == '\n':
				return i, fail(ErrInvalidURL, "Invalid characters in url", i+1)
			case c == '\t' || c == '\f':
				return i, fail(ErrInvalidURL, "Invalid characters in url (strict mode)", i+1)
			default:
				return i, fail(ErrInvalidURL, "Unexpected start char in url", i)
			}
		case stURLSchema:
			switch {
			case isAlpha(c):
			case c == ':':
				p.state, p.match = stURLSlashes, 0
			case c == ' ' || c == '\r' || c == '\n':
				return i, fail(ErrInvalidURL, "Invalid characters in url", i+1)
			case c == '\t' || c == '\f':
				return i, fail(ErrInvalidURL, "Invalid characters in url (strict mode)", i+1)
			default:
				return i, fail(ErrInvalidURL, "Unexpected char in url schema", i)
			}
		case stURLSlashes:
			switch {
			case c == '/':
				if p.match++; p.match == 2 {
					p.state = stURLServer
				}
			case p.match == 0 && (c == ' ' || c == '\r' || c == '\n'):
				return i, fail(ErrInvalidURL, "Invalid characters in url", i+1)
			case p.match == 0 && (c == '\t' || c == '\f'):
				return i, fail(ErrInvalidURL, "Invalid characters in url (strict mode)", i+1)
			default:
				return i, fail(ErrInvalidURL, "Unexpected char in url schema", i)
			}
		case stURLServer, stURLServerAt:
			switch {
			case c == '/' || c == '?':
				p.state = stURLPath
			case isUserinfoChar(c) || c == '[' || c == ']':
				p.state = stURLServer
			case c == '@':
				if p.state == stURLServerAt {
					return i, fail(ErrInvalidURL, "Double @ in url", i+1)
				}
				p.state = stURLServerAt
			default:
				if err := p.endTarget(buf, i); err != nil {
					return i, err
				}
			}
		case stURLPath:
			for i < len(buf) && httpspec.IsURLChar(buf[i]) {
				i++
			}
			if i == len(buf) {
				return i, nil
			}
			if err := p.endTarget(buf, i); err != nil {
				return i, err
			}
		case stURLCR:
			if c != '\n' {
				return i, fail(ErrInvalidURL, "Expected CRLF", i)
			}
			p.state = stURLAfterCRLF
		case stURLAfterCRLF:
			if c == '\t' || c == '\f' {
				return i, fail(ErrInvalidURL, "Invalid characters in url (strict mode)", i+1)
			}
			if !llMethods[p.method].node {
				// llhttp takes any method it knows as HTTP/0.9.
				return i, fail(ErrInvalidMethod, reasonNotHTTPMethod, p.mark)
			}
			p.major, p.minor = 0, 9
			p.state = stFields
			return i, nil
		case stURLAfterSP:
			if c == '\t' || c == '\f' {
				return i, fail(ErrInvalidURL, "Invalid characters in url (strict mode)", i+1)
			}
			p.state = stProtoStart
			i--
		case stProtoStart:
			if c == ' ' {
				continue
			}
			if v, ok := commonVersion(buf[i:], "\r\n"); ok && llMethods[p.method].node {
				// The usual "HTTP/1.1\r\n" at once; the same states
				// would accept it byte by byte.
				p.major, p.minor = 1, v
				p.state = stFields
				return i + len("HTTP/1.1\r\n"), nil
			}
			p.mark, p.match = i, 0
			p.state = stProto
			i--

		case stProto:
			if err := p.protocol(c, i); err != nil {
				return i, err
			}
		case stSlash:
			if c != '/' {
				return i, fail(ErrInvalidConstant, "Expected HTTP/, RTSP/ or ICE/", i)
			}
			p.state = stMajor
		case stMajor:
			if !isDigit(c) {
				return i, fail(ErrInvalidVersion, "Invalid major version", i)
			}
			p.major = c - '0'
			p.state = stDot
		case stDot:
			if c != '.' {
				return i, fail(ErrInvalidVersion, "Expected dot", i)
			}
			p.state = stMinor
		case stMinor:
			if !isDigit(c) {
				return i, fail(ErrInvalidVersion, "Invalid minor version", i)
			}
			p.minor = c - '0'
			switch v := uint16(p.major)<<8 | uint16(p.minor); v {
			case 0x0009, 0x0100, 0x0101, 0x0200:
			default:
				return i, fail(ErrInvalidVersion, "Invalid HTTP version", i+1)
			}
			switch {
			case p.response:
				p.state = stVersionSP
			case llMethods[p.method].name == "PRI":
				p.state, p.match = stPreface, 0
			default:
				p.state = stLineCR
			}
		case stLineCR:
			switch c {
			case '\r':
				p.state = stLineLF
			case '\n':
				return i, fail(ErrInvalidVersion, "Expected CRLF after version", i+1)
			default:
				return i, fail(ErrInvalidVersion, "Expected CRLF after version", i)
			}
		case stLineLF:
			if c != '\n' {
				return i, fail(ErrStrict, "Expected CRLF after version", i)
			}
			p.state = stFields
			return i + 1, nil
		case stPreface:
			if c != preface[p.match] {
				return i, fail(ErrInvalidVersion, "Expected HTTP/2 Connection Preface", i)
			}
			if p.match++; int(p.match) == len(preface) {
				return i, fail(ErrH2Preface, "Pause on PRI/Upgrade", i+1)
			}

		case stVersionSP:
			if c != ' ' {
				return i, fail(ErrInvalidVersion, "Expected space after version", i)
			}
			p.state, p.status, p.match = stStatus, 0, 0
		case stStatus:
			if !isDigit(c) {
				return i, fail(ErrInvalidStatus, "Invalid status code", i)
			}
			p.status = p.status*10 + int(c-'0')
			if p.match++; p.match == 3 {
				p.state = stStatusEnd
			}
		case stStatusEnd:
			switch c {
			case ' ':
				p.reason, p.hasReason = i+1, true
				p.fs.startSpan(i + 1)
				p.state = stReason
			case '\r':
				p.state = stStatusLF
			case '\n':
				return i, fail(ErrInvalidStatus, "Invalid response status", i+1)
			default:
				return i, fail(ErrInvalidStatus, "Invalid response status", i)
			}
		case stReason:
			for i < len(buf) && buf[i] != '\r' && buf[i] != '\n' {
				i++
			}
			if i == len(buf) {
				return i, nil
			}
			p.reasonEnd = i
			if err := p.fs.endSpan(i, true); err != nil {
				return i, err
			}
			if buf[i] == '\n' {
				return i, fail(ErrCRExpected, "Missing expected CR after response line", i+1)
			}
			p.state = stStatusLF
		case stStatusLF:
			if c == '\r' {
				return i, fail(ErrStrict, reasonStatusLineCR, i)
			}
			if c != '\n' {
				return i, fail(ErrStrict, "Expected LF after CR", i)
			}
			p.state = stFields
			return i + 1, nil
		}
	}
	return i, nil
}

// commonVersion reports whether b starts with "HTTP/1.1" or "HTTP/1.0"
// followed by end, and returns the minor version.
func commonVersion(b []byte, end string) (uint8, bool) {
	const v = "HTTP/1."
	if len(b) < len(v)+1+len(end) || string(b[:len(v)]) != v || string(b[len(v)+1:len(v)+1+len(end)]) != end {
		return 0, false
	}
	switch m := b[len(v)]; m {
	case '0', '1':
		return m - '0', true
	}
	return 0, false
}

// endTarget handles the byte at i after the request-target's characters:
// SP before the version, CRLF ending an HTTP/0.9 request line, or a
// refusal.
func (p *Parser) endTarget(buf []byte, i int) *ParseError {
	c := buf[i]
	switch c {
	case ' ', '\r', '\n':
	case '\t', '\f':
		return fail(ErrInvalidURL, "Invalid characters in url (strict mode)", i+1)
	default:
		return fail(ErrInvalidURL, "Invalid characters in url", i)
	}
	p.targetEnd = i
	if err := p.fs.endSpan(i, false); err != nil {
		return err
	}
	if i == p.target {
		// llhttp takes an empty authority-form target of CONNECT.
		return fail(ErrInvalidURL, reasonEmptyTarget, i)
	}
	switch c {
	case ' ':
		p.state = stURLAfterSP
	case '\r':
		p.state = stURLCR
	default:
		// llhttp ends an HTTP/0.9 request line at a bare LF.
		return fail(ErrCRExpected, reasonBareLF, i)
	}
	return nil
}

// protocol matches c, the byte at i, against the protocol names.
func (p *Parser) protocol(c byte, i int) *ParseError {
	if p.match == 0 {
		switch c {
		case 'H':
			p.proto = 0
		case 'R':
			p.proto = 1
		case 'I':
			p.proto = 2
		default:
			return fail(ErrInvalidConstant, "Expected HTTP/, RTSP/ or ICE/", i)
		}
	}
	name := protocols[p.proto]
	if c != name[p.match] {
		return fail(ErrInvalidConstant, "Expected HTTP/, RTSP/ or ICE/", i)
	}
	if p.match++; int(p.match) < len(name) {
		return nil
	}
	p.state = stSlash
	if p.response {
		if p.proto != 0 {
			return fail(ErrInvalidConstant, reasonNotHTTP, i+1)
		}
		return nil
	}
	m := &llMethods[p.method]
	switch p.proto {
	case 0:
		if !m.http {
			return fail(ErrInvalidConstant, "Invalid method for HTTP/x.x request", i+1)
		}
		return nil
	case 1:
		if !m.rtsp {
			return fail(ErrInvalidConstant, "Invalid method for RTSP/x.x request", i+1)
		}
	case 2:
		if !m.ice {
			return fail(ErrInvalidConstant, "Expected SOURCE method for ICE/x.x request", i+1)
		}
	}
	// As llhttp, an RTSP or ICE request with a method of http.METHODS
	// (OPTIONS / RTSP/1.0, SOURCE / ICE/1.0) is taken, by its version, as
	// an HTTP one; Node's server cannot tell it apart either. RTSP's own
	// methods are not HTTP.
	if !m.node {
		return fail(ErrInvalidConstant, reasonNotHTTP, i+1)
	}
	return nil
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isUserinfoChar reports the bytes llhttp takes in an authority besides
// '@', '[' and ']': alphanumerics, "-_.!~*'()" and "%;:&=+$,".
func isUserinfoChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '-', '_', '.', '!', '~', '*', '\'', '(', ')', '%', ';', ':', '&', '=', '+', '$', ',':
		return true
	}
	return false
}
