// Command bench is the side-by-side benchmark of issue 5: hostd with the
// handler in a plugin process, hostd's engine with the handler in-process,
// Go's net/http and Node's http.createServer answering the same hello
// world, in interleaved rounds, then at one connection (the plugin hop);
// (issue 14) the echo plugin's JSON through hostd against the same JSON
// from Node, at -connections and at one connection; the memory of idle
// keep-alive connections, CONNECT and upgrade throughput
// against plain loopback copies, 1 GiB streamed each way through a
// plugin, and (issue 11) hostd with the proxy plugin against Node's and
// Go's reverse proxies and nginx in front of one upstream. It ends with
// Markdown tables of the figures next to the issues' targets.
//
//	go run ./bench          # about 9 minutes
//	go run ./bench -quick   # about 2 minutes
//
// It builds what it runs into a temporary folder, talks only to
// 127.0.0.1 and stops every process it started, on Ctrl-C too. The load
// comes from wrk when it is installed, else from internal/loadgen.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	runHelperIfAsked()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runHelperIfAsked runs the helper envHelper names, if any, and exits:
// this process is then one the bench (or its tests) started from its own
// executable.
func runHelperIfAsked() {
	mode := os.Getenv(envHelper)
	switch {
	case mode == "":
		return
	case strings.HasPrefix(mode, "client-"):
		// A client of the client section: it runs, prints and exits.
		if err := runClientHelper(mode); err != nil {
			fmt.Fprintln(os.Stderr, "bench client:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	err := serveHelper(mode) // a server; returns only on error
	fmt.Fprintln(os.Stderr, "bench helper:", err)
	os.Exit(1)
}

// options are the command-line flags.
type options struct {
	duration   time.Duration // each c=64 load run
	warmup     time.Duration // each server, once, before the rounds
	c1Duration time.Duration // each c=1 load run
	rounds     int
	conns      int
	idleConns  int
	streamMiB  int64  // each upload and download
	pipeMiB    int64  // each tunnel and upgrade run
	loadgen    string // auto, wrk or go
	node       string
	nginx      string
	markdown   string          // also write the final table here
	only       map[string]bool // sections to run; nil runs all
}

// sectionNames are the parts of a run, in order, as -only names them.
var sectionNames = []string{"hello", "echo", "idle", "pipes", "transfers", "client", "proxy"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each load run at -connections (whole seconds with wrk)")
	fs.DurationVar(&o.c1Duration, "c1-duration", 5*time.Second, "length of each load run at one connection")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "load run given to each server before the rounds, not counted")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved rounds (at least 3)")
	fs.IntVar(&o.conns, "connections", 64, "keep-alive connections of the throughput runs")
	fs.IntVar(&o.idleConns, "idle-conns", 5000, "idle keep-alive connections of the memory figure")
	fs.Int64Var(&o.streamMiB, "stream-mib", 1024, "MiB of the upload and of the download through a plugin")
	fs.Int64Var(&o.pipeMiB, "pipe-mib", 4096, "MiB moved by each tunnel and upgrade run (a few seconds each)")
	fs.StringVar(&o.loadgen, "loadgen", "auto", "load generator: wrk, go (internal/loadgen) or auto (wrk when installed)")
	fs.StringVar(&o.node, "node", "node", "Node.js executable; empty to leave Node out")
	fs.StringVar(&o.nginx, "nginx", "nginx", "nginx executable for the proxy section; empty to leave nginx out")
	fs.StringVar(&o.markdown, "markdown", "", "also write the final Markdown table to this `file`")
	only := fs.String("only", "", "run only these `sections`, comma-separated: "+strings.Join(sectionNames, ", "))
	quick := fs.Bool("quick", false, "a run of about a minute: shorter load runs, 256 MiB streams, 512 MiB pipes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		// Shorter runs, unless a flag says otherwise.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		unlessSet := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		unlessSet("duration", func() { o.duration = 2 * time.Second })
		unlessSet("c1-duration", func() { o.c1Duration = time.Second })
		unlessSet("warmup", func() { o.warmup = time.Second })
		unlessSet("stream-mib", func() { o.streamMiB = 256 })
		unlessSet("pipe-mib", func() { o.pipeMiB = 512 })
	}
	if *only != "" {
		o.only = make(map[string]bool)
		for _, name := range strings.Split(*only, ",") {
			if !slices.Contains(sectionNames, name) {
				return o, fmt.Errorf("-only: unknown section %q: want %s", name, strings.Join(sectionNames, ", "))
			}
			o.only[name] = true
		}
	}
	switch {
	case o.rounds < 3:
		return o, errors.New("-rounds must be at least 3")
	case o.conns < 1 || o.idleConns < 1 || o.streamMiB < 1 || o.pipeMiB < 1:
		return o, errors.New("-connections, -idle-conns, -stream-mib and -pipe-mib must be positive")
	case o.duration < time.Second || o.c1Duration < time.Second:
		return o, errors.New("-duration and -c1-duration must be at least 1s")
	case o.loadgen != "auto" && o.loadgen != "wrk" && o.loadgen != "go":
		return o, fmt.Errorf("-loadgen %q: want auto, wrk or go", o.loadgen)
	}
	return o, nil
}

// bench is one run: its options, the tools it found and what it started.
type bench struct {
	opts  options
	root  string // the module
	dir   string // temporary: configs, logs
	bin   string // temporary: the binaries built
	self  string // this executable, re-executed for the helper servers
	node  string // "" when Node is left out
	nginx string // "" when nginx is left out
	wrk   string // "" when the Go load generator is used
	procs *procSet
	out   io.Writer // progress
	start time.Time
}

// logf prints a progress line with the time since the start.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "[%4.0fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	b := &bench{opts: opts, out: stderr, start: time.Now()}
	if b.root, err = moduleRoot(ctx); err != nil {
		return err
	}
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if b.dir, err = os.MkdirTemp("", "hostd-bench-"); err != nil {
		return err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "bench: logs of the servers are kept in %s\n", b.dir)
			return
		}
		_ = os.RemoveAll(b.dir)
	}()
	b.bin = filepath.Join(b.dir, "bin")
	b.procs = newProcSet(b.dir)
	defer b.procs.stopAll()

	if err := b.findTools(); err != nil {
		return err
	}
	raiseFileLimit(b)
	b.logf("building hostd, plugins and the stream plugin into %s", b.bin)
	if err := build(ctx, b.root, b.bin); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "server.js"), []byte(nodeServer), 0o644); err != nil {
		return err
	}

	res := &results{commit: gitCommit(ctx, b.root), date: time.Now().UTC(), node: b.nodeVersion(ctx), loader: b.loaderName()}
	res.servers = b.servers()
	// Each section records what it measured; one that fails is reported
	// and the others still run.
	sections := []struct {
		key  string // as -only names it
		name string
		run  func(context.Context, *results) error
	}{
		{"hello", "hello world", b.runHello},
		{"echo", "echo JSON", b.runEcho},
		{"idle", "idle connections", b.runIdle},
		{"pipes", "tunnel and upgrade", b.runPipes},
		{"transfers", "upload and download", b.runTransfers},
		{"client", "client", b.runClients},
		{"proxy", "reverse proxies", b.runProxy},
	}
	for _, s := range sections {
		if b.opts.only != nil && !b.opts.only[s.key] {
			continue
		}
		if err := s.run(ctx, res); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.logf("%s: FAILED: %v", s.name, err)
			res.failures = append(res.failures, fmt.Sprintf("%s: %v", s.name, firstLine(err)))
		}
		b.procs.stopAll() // each section starts what it needs
	}
	res.elapsed = time.Since(b.start)
	md := res.markdown(b)
	fmt.Fprint(stdout, res.details(b))
	fmt.Fprint(stdout, md)
	if opts.markdown != "" {
		if err := os.WriteFile(opts.markdown, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if len(res.failures) > 0 {
		return fmt.Errorf("%d section(s) failed", len(res.failures))
	}
	return nil
}

// findTools looks for wrk, node and nginx as the flags ask.
func (b *bench) findTools() error {
	if b.opts.loadgen != "go" {
		path, err := exec.LookPath("wrk")
		switch {
		case err == nil:
			b.wrk = path
		case b.opts.loadgen == "wrk":
			return fmt.Errorf("-loadgen wrk: %w", err)
		}
	}
	if b.opts.node != "" {
		path, err := exec.LookPath(b.opts.node)
		if err != nil {
			fmt.Fprintf(b.out, "bench: %v: Node is left out\n", err)
		}
		b.node = path
	}
	if b.opts.nginx != "" && (b.opts.only == nil || b.opts.only["proxy"]) {
		path, err := exec.LookPath(b.opts.nginx)
		if err != nil && b.opts.nginx == "nginx" {
			// Packages install it in /usr/sbin, often not on a user's PATH.
			path, err = exec.LookPath("/usr/sbin/nginx")
		}
		if err != nil {
			fmt.Fprintf(b.out, "bench: %v: nginx is left out of the proxy section\n", err)
		}
		b.nginx = path
	}
	return nil
}

// servers are the hello-world servers compared, in first-round order.
func (b *bench) servers() []string {
	s := []string{srvHostd, srvEngine, srvNetHTTP}
	if b.node != "" {
		s = append(s, srvNode)
	}
	return s
}

func (b *bench) loaderName() string {
	if b.wrk != "" {
		return "wrk -t1"
	}
	return "internal/loadgen (one thread)"
}

func (b *bench) nodeVersion(ctx context.Context) string {
	if b.node == "" {
		return ""
	}
	out, err := exec.CommandContext(ctx, b.node, "--version").Output()
	if err != nil {
		return "node"
	}
	return "Node " + strings.TrimSpace(string(out))
}

// raiseFileLimit lifts the soft limit on open files to the hard one, for
// the idle-connection figure; the servers inherit it.
func raiseFileLimit(b *bench) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.logf("raising RLIMIT_NOFILE: %v", err)
	}
	if need := uint64(b.opts.idleConns) + 200; lim.Cur < need {
		b.logf("RLIMIT_NOFILE is %d: the idle-connection figure needs about %d", lim.Cur, need)
	}
}

// gitCommit is the short commit of the tree being measured, marked
// "-dirty" when it has uncommitted changes.
func gitCommit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		commit += "-dirty"
	}
	return commit
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
