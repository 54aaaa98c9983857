package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// usage prints hostd -h.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage:
  hostd [flags]            serve (the embedded examples/hostd.toml without -config)
  hostd [flags] reload     ask the running hostd to reload its configuration,
                           through the admin API named in the configuration

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprint(w, `
Environment:
  HOSTD_KEY__PATH=value    override a configuration key: HOSTD_ and the key path in
                           upper case with "__" between levels, lists comma-separated,
                           e.g. HOSTD_SERVER__KEEP_ALIVE_TIMEOUT=10000,
                           HOSTD_SERVER__LISTEN=127.0.0.1:8080,[::1]:8080,
                           HOSTD_PLUGINS__ECHO__CONFIG__MAX_BODY=4096
  HOSTD_ADMIN_TOKEN        the admin API's bearer token (instead of [admin] token_file)

Signals: SIGHUP reloads; SIGINT and SIGTERM shut down gracefully (shutdown_timeout).
`)
}

// versionString is hostd's module version, with the VCS revision it was
// built from when the build recorded one.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "hostd (no build information)"
	}
	return describe(info)
}

func describe(info *debug.BuildInfo) string {
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		}
	}
	var extra []string
	if rev != "" {
		extra = append(extra, "revision "+rev+modified)
	}
	extra = append(extra, info.GoVersion)
	return "hostd " + info.Main.Version + " (" + strings.Join(extra, ", ") + ")"
}
