package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary is its own child: TestMain runs a child mode when
// PROC_TEST_CHILD names one.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PROC_TEST_CHILD"); mode != "" {
		os.Exit(childMain(mode))
	}
	os.Exit(m.Run())
}

func childMain(mode string) int {
	switch mode {
	case "listen", "burn", "ignore-term", "grandchild":
		if mode == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		extra := ""
		if mode == "grandchild" {
			gc := exec.Command("sleep", "300")
			if err := gc.Start(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			extra = "?grandchild=" + strconv.Itoa(gc.Process.Pid)
		}
		fmt.Printf("listening tcp://%s%s\n", ln.Addr(), extra)
		fmt.Println("more stdout after the line")
		if mode == "burn" {
			end := time.Now().Add(300 * time.Millisecond)
			for x := 0; time.Now().Before(end); x++ {
				_ = x * x
			}
		}
		if mode == "ignore-term" {
			time.Sleep(time.Minute) // SIGTERM is ignored: only SIGKILL ends this
			return 0
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		<-sig
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "cannot bind: address already in use")
		return 3
	case "silent":
		time.Sleep(time.Minute)
		return 0
	case "wrong-line":
		fmt.Println("hello")
		time.Sleep(time.Minute)
		return 0
	}
	return 99
}

func start(t *testing.T, mode string, opts Options) (*Proc, error) {
	t.Helper()
	opts.Env = append(opts.Env, "PROC_TEST_CHILD="+mode)
	return Start(context.Background(), opts)
}

func alive(pid int) bool { return unix.Kill(pid, 0) == nil }

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if !alive(pid) {
			return
		}
		// A zombie is gone for our purposes; it has no parent waiting here.
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(b), ") Z ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d still alive", pid)
}

func TestStartStop(t *testing.T) {
	var stderr strings.Builder
	p, err := start(t, "burn", Options{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.URL(), "tcp://127.0.0.1:") {
		t.Errorf("URL = %q", p.URL())
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL(), "tcp://"))
	if err != nil {
		t.Fatalf("the child is not listening at its URL: %v", err)
	}
	conn.Close()
	time.Sleep(400 * time.Millisecond) // it burns 300 ms of CPU
	if cpu, err := p.CPUTime(); err != nil || cpu < 100*time.Millisecond {
		t.Errorf("CPUTime = %v, %v after burning 300ms", cpu, err)
	}
	if fine, err := p.CPUTime(); err != nil {
		t.Error(err)
	} else if coarse, err := statCPU(p.Pid()); err != nil || coarse > fine+10*time.Millisecond || coarse < fine-20*time.Millisecond {
		t.Errorf("CPU clock %v and /proc stat %v (%v) disagree", fine, coarse, err)
	}
	if now, peak := p.RSS(); now <= 0 || peak < now {
		t.Errorf("RSS = %d, peak %d", now, peak)
	}
	if exited, _ := p.Exited(); exited {
		t.Fatal("exited early")
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if exited, how := p.Exited(); !exited || how != "exit status 0" {
		t.Errorf("Exited = %v, %q", exited, how)
	}
	if cpu, err := p.CPUTime(); err != nil || cpu < 100*time.Millisecond {
		t.Errorf("CPUTime after exit = %v, %v", cpu, err)
	}
	if _, err := statCPU(p.Pid()); err == nil {
		t.Error("statCPU of an exited process succeeded")
	}
	if !strings.Contains(stderr.String(), "more stdout after the line") {
		t.Errorf("stdout after the listening line not passed on: %q", stderr.String())
	}
	waitGone(t, p.Pid())
}

func TestStartFailures(t *testing.T) {
	for _, tc := range []struct {
		name, mode, want string
		timeout          time.Duration
	}{
		{"exits with an error", "fail", "address already in use", 0},
		{"never prints", "silent", "no listening line within", 300 * time.Millisecond},
		{"prints something else", "wrong-line", `"hello"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := start(t, tc.mode, Options{StartTimeout: tc.timeout})
			if err == nil {
				p.Stop(time.Second)
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, ErrNotListening) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want ErrNotListening mentioning %q", err, tc.want)
			}
		})
	}
}

func TestStartCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Start(ctx, Options{Env: []string{"PROC_TEST_CHILD=silent"}})
	if !errors.Is(err, ErrNotListening) || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("err = %v", err)
	}
}

func TestStartMissingBinary(t *testing.T) {
	if _, err := Start(context.Background(), Options{Path: "/nonexistent/server"}); err == nil {
		t.Error("Start of a missing binary succeeded")
	}
}

func TestStopKillsStubbornChild(t *testing.T) {
	p, err := start(t, "ignore-term", Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop = %v, want a kill reported", err)
	}
	waitGone(t, p.Pid())
}

func TestStopKillsGroup(t *testing.T) {
	p, err := start(t, "grandchild", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, q, _ := strings.Cut(p.URL(), "?grandchild=")
	gc, err := strconv.Atoi(q)
	if err != nil || !alive(gc) {
		t.Fatalf("grandchild %q not running", q)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	waitGone(t, gc)
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"0", []int{0}, false},
		{"1-3", []int{1, 2, 3}, false},
		{"0,2-3", []int{0, 2, 3}, false},
		{" 3,1,1 ", []int{1, 3}, false},
		{"", nil, true},
		{"a", nil, true},
		{"3-1", nil, true},
		{"-1", nil, true},
		{"1-", nil, true},
		{"0,,1", nil, true},
		{"99999", nil, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCPUList(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFormatCPUList(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "0,1,2,5": "0-2,5", "3,1": "1,3", "0-3,5-6,9": "0-3,5-6,9"} {
		cpus, err := ParseCPUList(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatCPUList(cpus); got != want {
			t.Errorf("FormatCPUList(%v) = %q, want %q", cpus, got, want)
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		allowed, gen, srv []int
		shared            bool
	}{
		{[]int{0}, []int{0}, []int{0}, true},
		{[]int{0, 1}, []int{0}, []int{1}, false},
		{[]int{0, 1, 2}, []int{0, 1}, []int{2}, false},
		{[]int{4, 5, 6, 7}, []int{4, 5}, []int{6, 7}, false},
	} {
		p := Plan(tc.allowed)
		if !reflect.DeepEqual(p.Generator, tc.gen) || !reflect.DeepEqual(p.Server, tc.srv) || p.Shared != tc.shared {
			t.Errorf("Plan(%v) = %+v", tc.allowed, p)
		}
		if p.Shared && p.Note == "" {
			t.Errorf("Plan(%v) shares CPUs without a note", tc.allowed)
		}
	}
}

// TestPinSelf pins a child (so that this test process keeps its CPUs) and
// checks every thread of it.
func TestPinSelf(t *testing.T) {
	if os.Getenv("PROC_TEST_PIN") == "" {
		allowed, err := Allowed()
		if err != nil || len(allowed) == 0 {
			t.Fatalf("Allowed = %v, %v", allowed, err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestPinSelf$", "-test.v")
		cmd.Env = append(os.Environ(), "PROC_TEST_PIN="+strconv.Itoa(allowed[len(allowed)-1]))
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("pinned child: %v\n%s", err, out)
		}
		return
	}
	cpu, _ := strconv.Atoi(os.Getenv("PROC_TEST_PIN"))
	if err := PinSelf([]int{cpu}); err != nil {
		t.Fatal(err)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) != strconv.Itoa(cpu) {
				t.Errorf("thread %s allowed on %s, want %d", task.Name(), strings.TrimSpace(v), cpu)
			}
		}
	}
	if err := PinSelf(nil); err == nil {
		t.Error("PinSelf(nil) succeeded")
	}
}
