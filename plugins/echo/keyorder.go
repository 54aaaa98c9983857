package echo

import (
	"slices"
	"strings"

	"github.com/hostd/hostd/sdk"
)

// Node builds message.headers (and trailers) as a plain object, adding
// each lower-cased name when its first field arrives, and JSON.stringify
// writes an object's keys in V8's order: the array indices ("0" to
// "4294967294", without leading zeros) in numeric order first, then the
// other names in the order they were added. (A field named __proto__
// never becomes a key; sdk.Headers leaves it out as Node does.)

// keyOrder is the scratch space that orders the names of a headers object
// without allocating once warm.
type keyOrder struct {
	slot   map[string]int // a name to write → its index in names
	names  []string       // the names to write, in the map's order
	placed []bool         // names[i] is already in out
	out    []string       // the names in JSON.stringify's order
	lower  []byte         // a raw name, lower-cased
}

// order returns the names of h to write, in JSON.stringify's order for
// the object Node folds from the fields raw. h is expected to be folded
// from raw; a name of h that no field of raw carries comes last, in
// sorted order, so that the answer stays deterministic.
func (k *keyOrder) order(h sdk.Headers, raw []string) []string {
	if k.slot == nil {
		k.slot = make(map[string]int)
	}
	for name, v := range h {
		if name == "set-cookie" || len(v) > 0 {
			k.slot[name] = len(k.names)
			k.names = append(k.names, name)
			k.placed = append(k.placed, false)
		}
	}
	indices := false
	for i := 0; i < len(raw); i += 2 {
		k.lower = appendLower(k.lower[:0], raw[i])
		if j, ok := k.slot[string(k.lower)]; ok && !k.placed[j] {
			k.placed[j] = true
			k.out = append(k.out, k.names[j])
			indices = indices || isArrayIndex(k.names[j])
		}
	}
	if len(k.out) < len(k.names) {
		rest := len(k.out)
		for j, name := range k.names {
			if !k.placed[j] {
				k.out = append(k.out, name)
				indices = indices || isArrayIndex(name)
			}
		}
		slices.Sort(k.out[rest:])
	}
	if indices {
		slices.SortStableFunc(k.out, compareKeys)
	}
	return k.out
}

// reset forgets the names of the last order, keeping the memory.
func (k *keyOrder) reset() {
	clear(k.slot)
	clear(k.names)
	clear(k.out)
	k.names, k.placed, k.out = k.names[:0], k.placed[:0], k.out[:0]
}

// compareKeys orders array indices before other names, and array indices
// by their value; other names keep their order (the sort is stable).
func compareKeys(a, b string) int {
	ai, bi := isArrayIndex(a), isArrayIndex(b)
	switch {
	case ai && bi: // no leading zeros: the longer is the larger
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	case ai:
		return -1
	case bi:
		return 1
	}
	return 0
}

// isArrayIndex reports whether s is the canonical decimal form of an
// integer from 0 to 2^32-2, which V8 orders before an object's other keys.
func isArrayIndex(s string) bool {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + uint64(c-'0')
	}
	return n < 1<<32-1
}

// appendLower appends s with ASCII upper-case letters lowered, as Node
// lowers a header name (names are tokens: ASCII only).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
