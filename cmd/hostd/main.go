// Command hostd serves HTTP/1.1 and hands each request to a plugin that
// runs as its own process. Without -config it serves the default example
// on 127.0.0.1:8080.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/examples"
	"github.com/hostd/hostd/framework/hostd"
)

func main() {
	if name := os.Getenv(hostd.EnvBuiltin); name != "" {
		serveBuiltin(name) // a plugin process hostd started; never returns
	}
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hostd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("hostd", flag.ContinueOnError)
	configFile := fs.String("config", "", "configuration `file` (default: the embedded examples/hostd.toml)")
	watch := fs.Bool("watch", true, "reload when the configuration file or a plugin executable changes")
	level := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text, or json (one object a line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("-log-format: %q is neither text nor json", *format)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "hostd", Level: hclog.LevelFromString(*level), JSONFormat: *format == "json"})
	opts := hostd.Options{ConfigFile: *configFile, Builtins: builtinNames(), Watch: *watch, Logger: log}
	if *configFile == "" {
		opts.Config, opts.ConfigName = examples.DefaultConfig, "embedded examples/hostd.toml"
	}
	if fs.Arg(0) == "reload" {
		return reload(ctx, opts)
	}
	h, err := hostd.New(opts)
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		return err
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	for sig := range signals {
		if sig == syscall.SIGHUP {
			_ = h.Reload(ctx) // a refusal is logged; the old configuration stays
			continue
		}
		log.Info("shutting down", "signal", sig.String())
		ctx, cancel := context.WithTimeout(ctx, h.Config().Server.ShutdownTimeout)
		defer cancel()
		return h.Shutdown(ctx)
	}
	return nil
}
