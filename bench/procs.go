package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux the bench runs on).
const clockTick = 10 * time.Millisecond

// proc is a process the bench started. Each runs in its own process group,
// so that stopping it also stops its children (hostd's plugins), and gets
// SIGKILL if the bench dies without cleaning up.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string        // its stdout and stderr
	done chan struct{} // closed when it has exited
}

// pid is the process id, which is also its process group id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail returns the last lines of the process's output, for error messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return fmt.Sprintf("--- last lines of %s (%s) ---\n%s", p.name, p.log, strings.Join(lines, "\n"))
}

// stop ends the process group: SIGTERM, then SIGKILL for whatever is left
// after grace. It is safe to call more than once.
func (p *proc) stop(grace time.Duration) {
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	// The leader may be gone while its children linger: kill the group.
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
}

// procSet tracks every process the bench started, so that all of them
// are stopped on every way out.
type procSet struct {
	dir string // where logs go

	mu    sync.Mutex
	procs map[*proc]struct{}
	n     int
}

func newProcSet(dir string) *procSet {
	return &procSet{dir: dir, procs: make(map[*proc]struct{})}
}

// start runs argv with extra environment variables.
func (s *procSet) start(name string, env []string, argv ...string) (*proc, error) {
	s.mu.Lock()
	s.n++
	logPath := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.log", s.n, name))
	s.mu.Unlock()
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs[p] = struct{}{}
	s.mu.Unlock()
	return p, nil
}

// stop stops p and forgets it.
func (s *procSet) stop(p *proc) {
	p.stop(3 * time.Second)
	s.mu.Lock()
	delete(s.procs, p)
	s.mu.Unlock()
}

// stopAll stops every process still running, all at once.
func (s *procSet) stopAll() {
	s.mu.Lock()
	ps := make([]*proc, 0, len(s.procs))
	for p := range s.procs {
		ps = append(ps, p)
	}
	s.procs = make(map[*proc]struct{})
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { p.stop(2 * time.Second) })
	}
	wg.Wait()
}

// procStat is what the bench reads of /proc/PID/stat.
type procStat struct {
	ppid int
	cpu  time.Duration // utime + stime
}

var errNoProc = errors.New("no such process")

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, errNoProc
	}
	// The command name is in parentheses and may hold anything: the
	// fields start after the last ')'. Then: state ppid … utime(14) stime(15).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return procStat{ppid: ppid, cpu: time.Duration(utime+stime) * clockTick}, nil
}

// tree returns pid and all its descendants.
func tree(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := make(map[int][]int)
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(child); err == nil {
			children[st.ppid] = append(children[st.ppid], child)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// treeCPU is the CPU time (user + system) used so far by pid and its
// descendants, and the part of it that pid used itself (hostd without
// its plugins).
func treeCPU(pid int) (total, own time.Duration, err error) {
	for _, p := range tree(pid) {
		st, err := readStat(p)
		if err != nil {
			if p == pid {
				return 0, 0, fmt.Errorf("reading CPU time of %d: %w", pid, err)
			}
			continue // a child that just exited
		}
		total += st.cpu
		if p == pid {
			own = st.cpu
		}
	}
	return total, own, nil
}

// statusKiB reads a "kB" field of /proc/PID/status, such as VmRSS or
// VmHWM.
func statusKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("reading %s of %d: %w", field, pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s of %d: no such field", field, pid)
}

// treeRSS is the resident set (VmRSS, KiB) of pid and its descendants,
// and the part of it in the descendants.
func treeRSS(pid int) (total, children int64, err error) {
	for _, p := range tree(pid) {
		kib, err := statusKiB(p, "VmRSS")
		if err != nil {
			if p == pid {
				return 0, 0, err
			}
			continue
		}
		total += kib
		if p != pid {
			children += kib
		}
	}
	return total, children, nil
}

// childNamed finds the descendant of pid whose executable's base name is
// name, such as a plugin process of hostd.
func childNamed(pid int, name string) (int, error) {
	for _, p := range tree(pid)[1:] {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
		if err != nil {
			continue
		}
		argv0, _, _ := bytes.Cut(b, []byte{0})
		if filepath.Base(string(argv0)) == name {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no process %q under %d", name, pid)
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux clear_refs "5"),
// so that the next reading is the peak since now.
func resetPeakRSS(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// machineBusy is the CPU time all processes on the machine have used
// (every CPU's non-idle time in /proc/stat).
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("/proc/stat: malformed")
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
