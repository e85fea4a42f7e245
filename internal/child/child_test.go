package child

import (
	"bufio"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStopKillsTheGroup: a child that ignores SIGTERM is killed after the
// grace, and so is the grandchild it left in its process group.
func TestStopKillsTheGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", `trap "" TERM; sleep 30 & echo $!; wait`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	grandchild, _ := strconv.Atoi(strings.TrimSpace(line))
	if pgid, _ := syscall.Getpgid(p.Pid); pgid != p.Pid {
		t.Errorf("the child's process group is %d, want its own (%d)", pgid, p.Pid)
	}
	if p.Exited() || p.Wait(50*time.Millisecond) {
		t.Fatal("the child exited on its own")
	}
	if killed := p.Stop(200 * time.Millisecond); !killed {
		t.Error("Stop says the child stopped on SIGTERM, which it ignores")
	}
	if !p.Exited() || p.Err() == nil || !strings.Contains(p.Describe(), "killed") {
		t.Errorf("after Stop: exited %v, %s", p.Exited(), p.Describe())
	}
	if grandchild > 0 && syscall.Kill(grandchild, 0) == nil {
		// A zombie not yet reaped by init still answers signal 0: give it
		// a moment, then look at its state.
		time.Sleep(100 * time.Millisecond)
		if syscall.Kill(grandchild, 0) == nil && !zombie(grandchild) {
			t.Errorf("the grandchild %d outlived Stop", grandchild)
		}
	}
}

// TestStopOnTerm: a child that exits on SIGTERM is not reported killed.
func TestStopOnTerm(t *testing.T) {
	p, err := Start(exec.Command("sleep", "30"))
	if err != nil {
		t.Fatal(err)
	}
	if killed := p.Stop(5 * time.Second); killed {
		t.Error("Stop says it killed a child that exits on SIGTERM")
	}
	if p.State() == nil {
		t.Error("no state after Stop")
	}
}

func TestStartFails(t *testing.T) {
	if _, err := Start(exec.Command("/nonexistent/program")); err == nil {
		t.Error("Start of a missing program succeeded")
	}
}

func TestTail(t *testing.T) {
	tail := &Tail{Max: 8}
	tail.Write([]byte("hello "))
	tail.Write([]byte("world\n"))
	if got := tail.String(); got != "o world" {
		t.Errorf("tail %q, want the last 8 bytes trimmed: %q", got, "o world")
	}
}

func zombie(pid int) bool {
	b, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err != nil || strings.HasPrefix(strings.TrimSpace(string(b)), "Z")
}
