package echo

import "unicode/utf8"

// Text decoding as a Node handler sees it: header values are read as
// latin1 (ISO-8859-1, one byte one character), and a body's
// toString() is UTF-8 decoded the WHATWG way, which replaces each maximal
// subpart of an ill-formed sequence with one U+FFFD (Unicode's "best
// practice", chapter 3, U+FFFD substitution). Go's utf8.DecodeRune
// reports each invalid byte on its own instead, so "\xF0\x90\x80" would
// be three replacements rather than one.

// nextRune returns the length of the sequence at the start of b (not
// empty) and whether it is well-formed UTF-8. An ill-formed one is its
// maximal subpart: the lead byte and the continuation bytes that could
// still have completed it, or the lone byte that starts nothing.
func nextRune(b []byte) (size int, ok bool) {
	if b[0] < utf8.RuneSelf {
		return 1, true
	}
	if r, n := utf8.DecodeRune(b); r != utf8.RuneError || n > 1 {
		return n, true
	}
	var need int         // continuation bytes after the lead
	lo, hi := 0x80, 0xBF // the range of the first continuation byte
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default: // a continuation byte, C0, C1 or F5..FF: starts nothing
		return 1, false
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if c := int(b[n]); c < lo || c > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n, false
}
