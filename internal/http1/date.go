package http1

import (
	"sync/atomic"
	"time"
)

// imfFixdate is the layout of HTTP dates (RFC 9110 §5.6.7).
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// dateCache holds the IMF-fixdate of the current second, so that writing
// a Date header costs a load and a copy rather than a time format.
type dateCache struct {
	sec int64
	val []byte
}

var currentDate atomic.Pointer[dateCache]

// AppendDate appends the current time as an HTTP Date value, for example
// "Sat, 21 Nov 2026 12:00:00 GMT".
func AppendDate(dst []byte) []byte { return appendDateAt(dst, time.Now()) }

// appendDateAt is AppendDate at the time now.
func appendDateAt(dst []byte, now time.Time) []byte {
	d := currentDate.Load()
	if d == nil || d.sec != now.Unix() {
		d = &dateCache{sec: now.Unix(), val: now.UTC().AppendFormat(nil, imfFixdate)}
		currentDate.Store(d)
	}
	return append(dst, d.val...)
}
