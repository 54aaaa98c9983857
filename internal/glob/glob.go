// Package glob matches the simple patterns hostd's configuration uses for
// CONNECT targets: "*" matches any run of characters and "?" any one;
// every other character, "[" included (IPv6 literals such as
// "[::1]:*"), stands for itself.
package glob

// Match reports whether s matches pattern.
func Match(pattern, s string) bool {
	// Iterative matching with backtracking to the last star: linear in
	// practice, no recursion.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
