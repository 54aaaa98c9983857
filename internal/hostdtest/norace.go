//go:build !race

package hostdtest

// Race reports whether the test binary, and so every builtin plugin it
// runs, was built with the race detector, which multiplies their memory.
const Race = false
