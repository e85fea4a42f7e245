// Package child starts and ends the processes mcpbench runs beside itself —
// the servers `mcpbench run` starts, the stdio servers a driver starts per
// connection, HAProxy — the one way: each in its own process group, killed
// if this process dies, reaped in the background, ended by its group.
//
//	cmd := exec.Command("mcpbench", "serve", "rest")
//	p, err := child.Start(cmd)
//	…
//	killed := p.Stop(5 * time.Second) // SIGTERM to the group, then SIGKILL
package child

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a started child. Its methods are safe for concurrent use.
type Process struct {
	// Pid is the child's process id, and its process group's.
	Pid  int
	done chan struct{}
	// err and state are set before done closes.
	err   error
	state *os.ProcessState
}

// Start starts cmd in a process group of its own, with SIGKILL as its
// parent-death signal, and reaps it in the background. cmd's I/O is set by
// the caller.
//
// The parent-death signal fires when the thread that forked the child
// ends, not the process: the fork happens on a thread locked for as long
// as the child lives.
func Start(cmd *exec.Cmd) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pdeathsig = true, syscall.SIGKILL
	p := &Process{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.Pid = cmd.Process.Pid
		started <- nil
		p.err = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Done is closed once the child has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited says whether the child has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to d for the child to exit and says whether it did.
func (p *Process) Wait(d time.Duration) bool {
	if p.Exited() {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// Err is what waiting for the child returned (nil for exit status 0);
// valid once Done is closed.
func (p *Process) Err() error { return p.err }

// State is the exited child's state (CPU times, wait status); valid once
// Done is closed.
func (p *Process) State() *os.ProcessState { return p.state }

// Describe says how the child exited: "exit status 0", "signal: killed".
func (p *Process) Describe() string {
	if p.err == nil {
		return "exit status 0"
	}
	return p.err.Error()
}

// Signal sends sig to the child alone, or, with group set, to its whole
// process group.
func (p *Process) Signal(sig syscall.Signal, group bool) error {
	if group {
		return syscall.Kill(-p.Pid, sig)
	}
	return syscall.Kill(p.Pid, sig)
}

// Stop ends the child's process group: SIGTERM, up to grace for the child
// to exit, then SIGKILL. Whatever else is left in the group is killed
// either way. It says whether the child had to be killed.
func (p *Process) Stop(grace time.Duration) (killed bool) {
	if !p.Exited() {
		p.Signal(syscall.SIGTERM, true)
		if !p.Wait(grace) {
			killed = true
		}
	}
	p.Signal(syscall.SIGKILL, true)
	<-p.done
	return killed
}

// Tail keeps the last Max bytes written to it, for error messages. It is
// safe for concurrent use.
type Tail struct {
	Max int
	mu  sync.Mutex
	b   []byte
}

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.Max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// String is what the tail holds, trimmed of surrounding space.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
