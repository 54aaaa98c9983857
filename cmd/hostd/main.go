// Command hostd serves HTTP/1.1 and hands each request to a plugin that
// runs as its own process. Without -config it serves the default example
// on 127.0.0.1:8080.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/examples"
	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/sysmon"
)

func main() {
	// Before anything else: the runtime reads GODEBUG only at start.
	if err := sysmon.Reexec(); err != nil {
		fmt.Fprintln(os.Stderr, "hostd: starting again with "+sysmon.Setting+" failed, going on without it:", err)
	}
	if name := os.Getenv(hostd.EnvBuiltin); name != "" {
		serveBuiltin(name) // a plugin process hostd started; never returns
	}
	err := run(context.Background(), os.Args[1:], os.Stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "hostd:", err)
	}
	os.Exit(exitCode(err))
}

// usageError is a command line hostd does not understand.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg + " (hostd -h for help)" }

// exitCode is 0 for success and -h, 2 for a bad command line, 1 otherwise.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// run is hostd: it serves until SIGINT, SIGTERM or ctx ends, or runs the
// subcommand. stdout takes -h and -version.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("hostd", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; -h prints usage below
	configFile := fs.String("config", "", "configuration `file` (default: the embedded examples/hostd.toml)")
	watch := fs.Bool("watch", true, "reload when the configuration file or a plugin executable changes")
	level := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text, or json (one object a line)")
	version := fs.Bool("version", false, "print hostd's version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return err
		}
		return &usageError{err.Error()}
	}
	if *version {
		fmt.Fprintln(stdout, versionString())
		return nil
	}
	sub := fs.Arg(0)
	switch {
	case sub != "" && sub != "reload":
		return &usageError{fmt.Sprintf("unknown argument %q", sub)}
	case fs.NArg() > 1:
		return &usageError{fmt.Sprintf("%s takes no argument, got %q", sub, fs.Arg(1))}
	}
	if *format != "text" && *format != "json" {
		return &usageError{fmt.Sprintf("-log-format: %q is neither text nor json", *format)}
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "hostd", Level: hclog.LevelFromString(*level), JSONFormat: *format == "json"})
	opts := hostd.Options{ConfigFile: *configFile, Builtins: builtinNames(), Watch: *watch, Logger: log}
	if *configFile == "" {
		opts.Config, opts.ConfigName = examples.DefaultConfig, "embedded examples/hostd.toml"
	}
	if sub == "reload" {
		return reload(ctx, opts, stdout)
	}
	return serve(ctx, opts)
}

// serve runs hostd until a signal or ctx stops it; SIGHUP reloads.
func serve(ctx context.Context, opts hostd.Options) error {
	// Catch the signals before starting: one that arrives while the
	// plugins start waits for the start, instead of killing hostd.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	opts.Logger.Info("starting", "version", versionString(), "gomaxprocs", runtime.GOMAXPROCS(0), "cpus", runtime.NumCPU())
	h, err := hostd.New(opts)
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		return err
	}
	for {
		select {
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				_ = h.Reload(ctx) // a refusal is logged; the old configuration stays
				continue
			}
			opts.Logger.Info("shutting down", "signal", sig.String())
		case <-ctx.Done():
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.Config().Server.ShutdownTimeout)
		defer cancel()
		return h.Shutdown(ctx)
	}
}
