package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/mcpbench/mcpbench/internal/child"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotListening is returned by Start when the child exits, times out or
// is cancelled before it prints its "listening URL" line.
var ErrNotListening = errors.New("server did not start listening")

// Options says which child to start. The zero value of each field means
// its documented default.
type Options struct {
	// Path is the executable; empty means this program itself.
	Path string
	// Args are its arguments, without the program name.
	Args []string
	// Env is added to this process's environment.
	Env []string
	// StartTimeout bounds the wait for the listening line; 0 means 15s.
	StartTimeout time.Duration
	// Stderr receives the child's stderr and any stdout after the
	// listening line; nil discards them. Start keeps the last few KiB for
	// its error messages either way.
	Stderr io.Writer
}

// Proc is a running child server. Its methods are safe for concurrent use.
type Proc struct {
	c    *child.Process
	url  string
	tail *child.Tail

	stopOnce sync.Once
	stopErr  error
}

// Start runs the child in its own process group, killed if this process
// dies, and waits for the first line of its stdout, "listening URL". ctx
// bounds only the start: a started child runs until Stop.
func Start(ctx context.Context, opts Options) (*Proc, error) {
	path := opts.Path
	if path == "" {
		var err error
		if path, err = selfExe(); err != nil {
			return nil, fmt.Errorf("finding this executable: %w", err)
		}
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	p := &Proc{tail: &child.Tail{Max: 8 << 10}}
	cmd := exec.Command(path, opts.Args...)
	cmd.Env = append(os.Environ(), opts.Env...)
	var rest io.Writer = p.tail
	if opts.Stderr != nil {
		rest = io.MultiWriter(p.tail, opts.Stderr)
	}
	cmd.Stderr = rest
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	name := path + " " + strings.Join(opts.Args, " ")
	if p.c, err = child.Start(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}

	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if err == nil {
			lines <- strings.TrimSpace(line)
		}
		io.Copy(rest, r) // drain, so that the child never blocks on stdout
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	fail := func(why string) (*Proc, error) {
		p.Stop(time.Second)
		return nil, fmt.Errorf("%w: %s: %s%s", ErrNotListening, name, why, p.stderrSuffix())
	}
	select {
	case line := <-lines:
		url, ok := strings.CutPrefix(line, "listening ")
		if !ok || url == "" {
			return fail(fmt.Sprintf("first line of stdout is %q, want \"listening URL\"", line))
		}
		p.url = url
		return p, nil
	case <-p.c.Done():
		// The line may have been written just before the exit.
		select {
		case line := <-lines:
			return fail(fmt.Sprintf("printed %q, then exited (%v)", line, p.c.Describe()))
		default:
		}
		return fail("exited before listening (" + p.c.Describe() + ")")
	case <-timer.C:
		return fail(fmt.Sprintf("no listening line within %v", timeout))
	case <-ctx.Done():
		return fail("cancelled while starting: " + ctx.Err().Error())
	}
}

// URL is what the child printed after "listening ".
func (p *Proc) URL() string { return p.url }

// Pid is the child's process id (and process group id).
func (p *Proc) Pid() int { return p.c.Pid }

// Exited says whether the child has exited, and how.
func (p *Proc) Exited() (bool, string) {
	select {
	case <-p.c.Done():
		return true, p.c.Describe()
	default:
		return false, ""
	}
}

// Signal sends sig to the child alone (not its group): SIGSTOP and
// SIGCONT to stall it, SIGKILL to kill it, SIGHUP to ask a server to
// reload (the authorization server rotates its key). Fault injection uses it.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.c.Done():
		return fmt.Errorf("signal %v: the server has exited", sig)
	default:
	}
	return p.c.Signal(sig, false)
}

// Stop sends SIGTERM to the child's process group, waits up to grace for
// it to exit, then sends SIGKILL. It returns an error when the child had
// to be killed, or had exited on its own with a failure. Stop is
// idempotent: later calls return the first call's result.
func (p *Proc) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(grace) })
	return p.stopErr
}

func (p *Proc) stop(grace time.Duration) error {
	early := p.c.Exited()
	killed := p.c.Stop(grace) // sweeps what is left in the group either way
	switch {
	case early && p.c.Err() != nil:
		return fmt.Errorf("server exited early: %s%s", p.c.Describe(), p.stderrSuffix())
	case killed:
		return fmt.Errorf("server did not stop within %v of SIGTERM: killed", grace)
	}
	if ws, ok := p.c.State().Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return nil // it did not handle SIGTERM, but it stopped
	}
	if p.c.Err() != nil {
		return fmt.Errorf("server stopped with %s%s", p.c.Describe(), p.stderrSuffix())
	}
	return nil
}

// CPUTime returns the CPU time (user + system) the child has used,
// to the nanosecond while it runs. It fits bench.Config.ServerCPU.
func (p *Proc) CPUTime() (time.Duration, error) {
	select {
	case <-p.c.Done():
		return p.c.State().UserTime() + p.c.State().SystemTime(), nil
	default:
	}
	return CPUTimeOf(p.c.Pid)
}

// CPUTimeOf returns the CPU time (user + system) a running process and its
// live descendants have used, to the nanosecond: what CPUTime reads while
// a child runs, for processes started otherwise (a stdio server a driver
// runs). It fails once the process has been reaped; the caller then has
// its final CPU time from the wait (os.ProcessState).
func CPUTimeOf(pid int) (time.Duration, error) {
	// The process CPU clock (clock_getcpuclockid): all threads, dead ones
	// included, in nanoseconds. The kernel may answer it from a cached
	// group sample (seen here with children built with -race: the clock
	// stood still for 300 ms of load), so the live per-thread schedstat
	// sum is read too and the larger taken.
	own, err := processCPU(pid)
	if err != nil {
		return 0, err
	}
	// A server that runs its own child (HAProxy under serve gateway, npx
	// under a stdio command) does its work there: count the live
	// descendants too.
	return own + descendantsCPU(pid, 3), nil
}

// processCPU is one process's CPU time: the larger of its process CPU
// clock and its threads' schedstat sum, else /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	var ts unix.Timespec
	clock := int32(^pid)<<3 | 2 // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
	sched, serr := schedstatCPU(pid)
	if err := unix.ClockGettime(clock, &ts); err == nil {
		return max(time.Duration(ts.Nano()), sched), nil
	}
	if serr == nil {
		return sched, nil
	}
	return statCPU(pid)
}

// descendantsCPU sums the CPU time of pid's live descendants, depth levels
// down, from /proc/PID/task/*/children.
func descendantsCPU(pid, depth int) time.Duration {
	if depth == 0 {
		return 0
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			child, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if c, err := processCPU(child); err == nil {
				total += c
			}
			total += descendantsCPU(child, depth-1)
		}
	}
	return total
}

// schedstatCPU sums the run time of pid's live threads from
// /proc/PID/task/*/schedstat (nanoseconds; threads that exited are lost).
func schedstatCPU(pid int) (time.Duration, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread just exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err == nil {
			total += ns
		}
	}
	return time.Duration(total), nil
}

// statCPU reads utime+stime from /proc/PID/stat (10 ms ticks).
func statCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("server CPU time: %w", err)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s) // f[0] is field 3 (state); utime is field 14
	if len(f) < 13 {
		return 0, fmt.Errorf("server CPU time: /proc/%d/stat has %d fields", pid, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("server CPU time: %w", err)
	}
	return time.Duration(ut+st) * (time.Second / 100), nil
}

// RSS returns the child's resident set size and its peak, in bytes; zero
// once it has exited.
func (p *Proc) RSS() (now, peak int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.c.Pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			now = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return now, peak
}

// stderrSuffix is the end of the child's stderr, as the end of an error
// message.
func (p *Proc) stderrSuffix() string {
	s := p.tail.String()
	if s == "" {
		return ""
	}
	return "; its stderr ends:\n" + s
}
