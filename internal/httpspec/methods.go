package httpspec

// Methods is Node's http.METHODS: the request methods its parser accepts,
// sorted. A request with any other method is refused with
// HPE_INVALID_METHOD before it reaches a handler.
var Methods = []string{
	"ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD",
	"LINK", "LOCK", "M-SEARCH", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL",
	"MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH",
	"PURGE", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "SOURCE",
	"SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE",
}

// methodByLen buckets Methods by length so that LookupMethod compares a
// handful of candidates at most.
var methodByLen [16][]string

func init() {
	for _, m := range Methods {
		methodByLen[len(m)] = append(methodByLen[len(m)], m)
	}
}

// LookupMethod returns the canonical string for the method spelled by b,
// so that callers get a method string without allocating. ok is false
// when b is not one of Methods; methods are case-sensitive.
func LookupMethod(b []byte) (m string, ok bool) {
	if len(b) == 0 || len(b) >= len(methodByLen) {
		return "", false
	}
	for _, m := range methodByLen[len(b)] {
		if string(b) == m {
			return m, true
		}
	}
	return "", false
}
