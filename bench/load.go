package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hostd/hostd/internal/loadgen"
)

// loadResult is one load run against one server.
type loadResult struct {
	requests int64 // 2xx/3xx responses
	bad      int64 // errors and other statuses
	elapsed  time.Duration
	rps      float64
	p50, p99 time.Duration
	// loaderCPU is the CPU time wrk used; the Go load generator's is the
	// bench's own.
	loaderCPU time.Duration
}

// load drives s with conns keep-alive connections for d, each asking
// for GET s.target(), with wrk when the bench found it, else with
// internal/loadgen. Both send the same request: the request line and a
// Host header naming s.addr.
func (b *bench) load(ctx context.Context, s *server, conns int, d time.Duration) (loadResult, error) {
	if b.wrk != "" {
		return runWrk(ctx, b.wrk, s.addr, s.target(), conns, d)
	}
	return runLoadgen(ctx, s.addr, s.target(), conns, d)
}

// runLoadgen runs the Go load generator on one thread, as wrk -t1 does,
// so that it takes no more of the two cores than wrk would.
func runLoadgen(ctx context.Context, addr, path string, conns int, d time.Duration) (loadResult, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	res, err := loadgen.Run(ctx, loadgen.Options{Addr: addr, Path: path, Connections: conns, Duration: d})
	if err != nil {
		return loadResult{}, err
	}
	return loadResult{
		requests: res.Requests,
		bad:      res.Errors + res.Non2xx,
		elapsed:  res.Elapsed,
		rps:      res.RequestsPerSec(),
		p50:      res.Latency.Quantile(0.50),
		p99:      res.Latency.Quantile(0.99),
	}, nil
}

// runWrk runs wrk -t1 with its latency distribution and reads its report.
func runWrk(ctx context.Context, wrk, addr, path string, conns int, d time.Duration) (loadResult, error) {
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	cmd := exec.CommandContext(ctx, wrk, "-t1", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "5s", "--latency", "http://"+addr+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	r.loaderCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, err
}

// parseWrk reads the lines of wrk's report that the bench uses:
//
//	Latency Distribution
//	   50%  460.00us
//	   99%    1.66ms
//	  1018012 requests in 10.00s, 158.22MB read
//	  Socket errors: connect 0, read 0, write 0, timeout 0
//	  Non-2xx or 3xx responses: 3
//	Requests/sec: 101780.73
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	var seen int
	var non2xx int64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var err error
		switch {
		case len(f) == 2 && f[0] == "50%":
			r.p50, err = parseWrkDuration(f[1])
			seen++
		case len(f) == 2 && f[0] == "99%":
			r.p99, err = parseWrkDuration(f[1])
			seen++
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			r.requests, err = strconv.ParseInt(f[0], 10, 64)
			if err == nil {
				r.elapsed, err = parseWrkDuration(strings.TrimSuffix(f[3], ","))
			}
			seen++
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, err = strconv.ParseFloat(f[1], 64)
			seen++
		case len(f) >= 10 && f[0] == "Socket" && f[1] == "errors:":
			for _, i := range []int{3, 5, 7, 9} {
				n, _ := strconv.ParseInt(strings.TrimSuffix(f[i], ","), 10, 64)
				r.bad += n
			}
		case len(f) == 5 && f[0] == "Non-2xx":
			non2xx, _ = strconv.ParseInt(f[4], 10, 64)
			r.bad += non2xx
		}
		if err != nil {
			return r, fmt.Errorf("reading wrk's report %q: %w", sc.Text(), err)
		}
	}
	if seen < 4 {
		return r, fmt.Errorf("wrk's report lacks latency percentiles or totals:\n%s", out)
	}
	// wrk counts non-2xx responses in requests; keep only the good ones.
	if non2xx > 0 && r.elapsed > 0 {
		r.requests = max(r.requests-non2xx, 0)
		r.rps = float64(r.requests) / r.elapsed.Seconds()
	}
	return r, nil
}

// parseWrkDuration reads wrk's "460.00us", "1.66ms", "10.00s", "1.00m".
func parseWrkDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(f * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("unknown duration %q", s)
}
