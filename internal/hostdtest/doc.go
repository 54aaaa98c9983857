// Package hostdtest starts hostd in tests: from a TOML file on 127.0.0.1,
// with real plugin processes, and small clients to assert on what comes
// back.
//
// Plugins come two ways. Build compiles real plugin executables once per
// test binary. Builtins run as re-executions of the test binary itself:
// TestMain calls ServeBuiltin first thing, which turns the process into
// the plugin hostd asked for (the mechanism hostd uses for its shipped
// plugins). The builtins include misbehaving plugins: one that crashes,
// one that is slow, one that refuses its configuration, one that speaks an
// older protocol.
package hostdtest
