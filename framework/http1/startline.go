package http1

import "github.com/hostd/hostd/internal/httpspec"

// requestLine parses "method SP target SP HTTP/x.y" (without CRLF) that
// starts at offset off. Like llhttp it tolerates extra spaces between the
// parts, and a request line without a version is HTTP/0.9.
func (p *Parser) requestLine(line []byte, off int, h *Head) *ParseError {
	i := 0
	for i < len(line) && line[i] != ' ' {
		i++
	}
	m, ok := httpspec.LookupMethod(line[:i])
	if !ok {
		if string(line[:i]) == "PRI" {
			return fail(ErrH2Preface, "Pause on PRI/Upgrade", off)
		}
		return fail(ErrInvalidMethod, "Invalid method encountered", off)
	}
	if i == len(line) {
		return fail(ErrInvalidMethod, "Invalid method encountered", off+i)
	}
	h.Method = m
	for i < len(line) && line[i] == ' ' {
		i++
	}
	start := i
	for i < len(line) && line[i] != ' ' {
		if !httpspec.IsURLChar(line[i]) {
			return fail(ErrInvalidURL, "Invalid characters in url", off+i)
		}
		i++
	}
	if i == start {
		return fail(ErrInvalidURL, "Unexpected start char in url", off+i)
	}
	h.Target = line[start:i]
	if err := checkTarget(h.Target, m == "CONNECT", off+start); err != nil {
		return err
	}
	p.counted += len(h.Target)
	for i < len(line) && line[i] == ' ' {
		i++
	}
	if i == len(line) {
		h.Major, h.Minor = 0, 9
		return nil
	}
	return parseVersion(line[i:], off+i, &h.Major, &h.Minor, true)
}

// checkTarget applies llhttp's structure rules to a request-target whose
// bytes are already known to be visible ASCII: origin-form ("/…"),
// asterisk-form ("*…"), absolute-form ("scheme://…") or, for CONNECT,
// anything (authority-form).
func checkTarget(t []byte, connect bool, off int) *ParseError {
	if connect || t[0] == '/' || t[0] == '*' {
		return nil
	}
	i := 0
	for i < len(t) && (t[i]|0x20 >= 'a' && t[i]|0x20 <= 'z') {
		i++
	}
	if i == 0 {
		return fail(ErrInvalidURL, "Unexpected start char in url", off)
	}
	if len(t) < i+3 || t[i] != ':' || t[i+1] != '/' || t[i+2] != '/' {
		return fail(ErrInvalidURL, "Unexpected char in url schema", off+i)
	}
	return nil
}

// parseVersion parses "HTTP/x.y" that must fill all of b. llhttp accepts
// 0.9, 1.0, 1.1 and 2.0.
func parseVersion(b []byte, off int, major, minor *uint8, request bool) *ParseError {
	if len(b) < 5 || string(b[:5]) != "HTTP/" {
		return fail(ErrInvalidConstant, "Expected HTTP/, RTSP/ or ICE/", off)
	}
	if len(b) < 8 || !isDigit(b[5]) || b[6] != '.' || !isDigit(b[7]) {
		return fail(ErrInvalidVersion, "Invalid HTTP version", off+5)
	}
	ma, mi := b[5]-'0', b[7]-'0'
	switch {
	case ma == 1 && mi <= 1, ma == 0 && mi == 9, ma == 2 && mi == 0:
	default:
		return fail(ErrInvalidVersion, "Invalid HTTP version", off+7)
	}
	if request && len(b) != 8 {
		return fail(ErrInvalidVersion, "Expected CRLF after version", off+8)
	}
	*major, *minor = ma, mi
	return nil
}

// statusLine parses "HTTP/x.y SP 3DIGIT [SP reason]" (without CRLF).
func (p *Parser) statusLine(line []byte, off int, h *Head) *ParseError {
	if len(line) < 8 {
		return fail(ErrInvalidConstant, "Expected HTTP/", off)
	}
	if err := parseVersion(line[:8], off, &h.Major, &h.Minor, false); err != nil {
		return err
	}
	rest := line[8:]
	if len(rest) < 4 || rest[0] != ' ' || !isDigit(rest[1]) || !isDigit(rest[2]) || !isDigit(rest[3]) {
		return fail(ErrInvalidStatus, "Invalid response status", off+8)
	}
	h.StatusCode = int(rest[1]-'0')*100 + int(rest[2]-'0')*10 + int(rest[3]-'0')
	rest = rest[4:]
	h.Reason = nil
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return fail(ErrInvalidStatus, "Invalid response status", off+12)
		}
		// llhttp takes any byte but CR and LF in the reason phrase.
		h.Reason = rest[1:]
	}
	p.counted += len(h.Reason)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
