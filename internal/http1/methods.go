package http1

import "github.com/hostd/hostd/internal/httpspec"

// llMethod is a method llhttp's request-line trie knows, with the
// protocols llhttp accepts it with.
type llMethod struct {
	name      string
	node      bool // in Node's http.METHODS: the only ones hostd accepts
	http      bool // llhttp accepts it with HTTP/x.y
	rtsp, ice bool // ... with RTSP/x.y, ICE/x.y
}

// llMethods is llhttp's method list (Node's http_parser allMethods).
var llMethods = func() []llMethod {
	ms := make([]llMethod, 0, 47)
	for _, m := range httpspec.Methods {
		ms = append(ms, llMethod{name: m, node: true, http: true})
	}
	ms = append(ms, llMethod{name: "PRI", http: true})
	for _, m := range []string{"DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN",
		"GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH"} {
		ms = append(ms, llMethod{name: m})
	}
	for i := range ms {
		switch ms[i].name {
		case "OPTIONS", "GET", "POST", "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN",
			"GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH":
			ms[i].rtsp = true
		case "SOURCE":
			ms[i].ice = true
		}
	}
	return ms
}()

// methodsByFirst indexes llMethods by their first byte.
var methodsByFirst = func() (t [256][]uint8) {
	for i, m := range llMethods {
		t[m.name[0]] = append(t[m.name[0]], uint8(i))
	}
	return t
}()

// matchMethod matches the start of b against llhttp's method trie. It
// returns the index in llMethods and the method's length when b starts
// with a method that the byte after it does not extend; or id -1 and the
// offset of the first byte that no method continues; or id -1 and
// n == len(b) when b may still become a method.
func matchMethod(b []byte) (id, n int) {
	best := 0
	for _, k := range methodsByFirst[b[0]] {
		m := llMethods[k].name
		j := 0
		for j < len(m) && j < len(b) && m[j] == b[j] {
			j++
		}
		if j > best {
			best = j
		}
	}
	if best == len(b) {
		return -1, best // every byte so far continues some method
	}
	for _, k := range methodsByFirst[b[0]] {
		if llMethods[k].name == string(b[:best]) {
			return int(k), best
		}
	}
	return -1, best
}
