package glob_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/glob"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "example.com:443", true},
		{"*", "", true},
		{"127.0.0.1:*", "127.0.0.1:8080", true},
		{"127.0.0.1:*", "127.0.0.2:8080", false},
		{"[::1]:*", "[::1]:443", true},
		{"[::1]:*", "[::2]:443", false},
		{"*.example.com:443", "a.b.example.com:443", true},
		{"*.example.com:443", "example.com:443", false},
		{"host:44?", "host:443", true},
		{"host:44?", "host:4430", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"", "", true},
		{"", "x", false},
	} {
		require.Equal(t, tc.want, glob.Match(tc.pattern, tc.s), "Match(%q, %q)", tc.pattern, tc.s)
	}
}
