package httpspec

// Character classes, as 256-entry tables so that the hot loops of the
// parser are one load and one test per byte.
var (
	// tokenTable marks tchar (RFC 9110 §5.6.2):
	// "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
	// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
	tokenTable [256]bool

	// fieldValueTable marks the bytes Node accepts inside a field value:
	// HTAB, SP, VCHAR and obs-text (0x80-0xFF). Everything else, NUL, CR,
	// LF and the other controls and DEL, is refused.
	fieldValueTable [256]bool

	// urlTable marks the bytes llhttp accepts in a request-target in its
	// strict mode: the visible ASCII characters. SP ends the target.
	urlTable [256]bool
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		isAlnum := b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
		switch {
		case isAlnum:
			tokenTable[c] = true
		case b == '!' || b == '#' || b == '$' || b == '%' || b == '&' || b == '\'' ||
			b == '*' || b == '+' || b == '-' || b == '.' || b == '^' || b == '_' ||
			b == '`' || b == '|' || b == '~':
			tokenTable[c] = true
		}
		fieldValueTable[c] = b == '\t' || (b >= 0x20 && b != 0x7f)
		urlTable[c] = b > 0x20 && b < 0x7f
	}
}

// IsTokenChar reports whether c may appear in a token such as a method or a
// header name.
func IsTokenChar(c byte) bool { return tokenTable[c] }

// IsFieldValueChar reports whether c may appear in a header value.
func IsFieldValueChar(c byte) bool { return fieldValueTable[c] }

// IsURLChar reports whether c may appear in a request-target.
func IsURLChar(c byte) bool { return urlTable[c] }

// IsToken reports whether s is a non-empty token.
func IsToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenTable[s[i]] {
			return false
		}
	}
	return true
}

// ValidFieldValue reports whether every byte of s may appear in a header
// value. The empty value is valid.
func ValidFieldValue[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if !fieldValueTable[s[i]] {
			return false
		}
	}
	return true
}

// EqualFold reports whether the ASCII strings a and b are equal, ignoring
// case. lower must already be lower-case.
func EqualFold[T string | []byte](s T, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// ToLower returns s in lower case. It allocates only when s has an
// upper-case letter.
func ToLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// TrimOWS removes optional whitespace (SP and HTAB) from both ends of s.
func TrimOWS[T string | []byte](s T) T {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}

// EqualFoldASCII reports whether a and b are equal ignoring ASCII case.
func EqualFoldASCII[T string | []byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}
