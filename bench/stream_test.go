package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The fake driver on the event loop: each stream is one end of a Unix
// socket pair, the other end served by a goroutine that answers each
// request line as the fake's behave says (a delay, then "class code"), so
// that the runner's tests run the same cases on both engines.

func (d *fakeDriver) Streamable() bool { return d.stream }

func (d *fakeDriver) OpenStream(ctx context.Context, conn int) (Stream, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		return nil, err
	}
	go d.serve(os.NewFile(uintptr(fds[1]), "fake server"))
	return &fakeStream{fd: fds[0]}, nil
}

// serve answers one stream's requests until the client or the driver
// closes it.
func (d *fakeDriver) serve(f *os.File) {
	defer f.Close()
	r := bufio.NewReader(f)
	for {
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		n := d.calls.Add(1) - 1
		delay, o := d.behave(n)
		switch {
		case delay == blockForever: // no reply: hang until either side closes
			gone := make(chan struct{})
			go func() { r.ReadByte(); close(gone) }()
			select {
			case <-d.block:
			case <-gone:
			}
			return
		case delay > 0:
			time.Sleep(delay)
		}
		if n > 0 {
			d.mu.Lock()
			d.byClass[o.Class]++
			d.mu.Unlock()
		}
		if _, err := fmt.Fprintf(f, "%d %d\n", o.Class, o.Code); err != nil {
			return
		}
	}
}

type fakeStream struct{ fd int }

func (s *fakeStream) Fd() int { return s.fd }
func (s *fakeStream) Request(dst []byte) ([]byte, Outcome) {
	return append(dst, "call\n"...), Outcome{}
}
func (s *fakeStream) Reply(buf []byte) (int, Outcome, bool) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		return 0, Outcome{}, true
	}
	c, code, ok := bytes.Cut(buf[:i], []byte(" "))
	class, err1 := strconv.Atoi(string(c))
	n, err2 := strconv.Atoi(string(code))
	if !ok || err1 != nil || err2 != nil {
		return -1, Outcome{}, false
	}
	return i + 1, Outcome{Class: Class(class), Code: n}, true
}
func (s *fakeStream) Close() error { return unix.Close(s.fd) }

// engines runs f once per engine, with the fake driver set to stream on
// the loop's turn.
func engines(t *testing.T, f func(t *testing.T, stream bool)) {
	for _, e := range []string{EngineWorkers, EngineLoop} {
		t.Run(e, func(t *testing.T) { f(t, e == EngineLoop) })
	}
}

func newFakeOn(stream bool, behave func(n int64) (time.Duration, Outcome)) *fakeDriver {
	d := newFake(behave)
	d.stream = stream
	return d
}

// TestLoopUsed: a stream driver runs on the loop unless asked otherwise,
// and the result says which engine and window made the calls.
func TestLoopUsed(t *testing.T) {
	for _, tc := range []struct {
		engine       string
		stream       bool
		want, window string
	}{
		{EngineAuto, true, EngineLoop, "auto"},
		{EngineWorkers, true, EngineWorkers, ""},
		{EngineAuto, false, EngineWorkers, ""},
	} {
		d := newFakeOn(tc.stream, nil)
		res := mustRun(t, context.Background(), Config{Driver: d, Pacer: constantPacer(t, 1000), Requests: 20, Engine: tc.engine, Batch: BatchAuto})
		d.Close()
		if res.Engine != tc.want || res.Batch != tc.window {
			t.Errorf("engine %q, stream %v: ran on %q, batch %q; want %q, %q", tc.engine, tc.stream, res.Engine, res.Batch, tc.want, tc.window)
		}
	}
	d := newFakeOn(false, nil)
	defer d.Close()
	if _, err := Run(context.Background(), Config{Driver: d, Pacer: constantPacer(t, 1000), Requests: 1, Engine: EngineLoop}); err == nil {
		t.Error("engine loop with a driver that cannot stream: no error")
	}
}

// TestLoopQueuesAndBalances: with one slow connection, requests wait in
// the loop's queue; their latency counts the wait, and an interrupted run
// still balances with the queue counted.
func TestLoopQueuesAndBalances(t *testing.T) {
	d := newFakeOn(true, func(int64) (time.Duration, Outcome) { return 10 * time.Millisecond, Outcome{} })
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	res, err := Run(ctx, Config{Driver: d, Pacer: constantPacer(t, 1000), Duration: time.Minute, Connections: 1, Grace: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Accounting
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	// About 300 fall due; one connection serves about 30.
	if a.OK < 10 || a.OK > 40 || a.Queued < 150 || a.InFlight > 1 {
		t.Fatalf("accounting %+v: want about 30 served, the rest queued", a)
	}
	// The last served waited behind the others: the queue's wait counts.
	if res.Response.Max < 100*int64(time.Millisecond) || res.Service.P50 > 20*int64(time.Millisecond) {
		t.Errorf("response max %v, service p50 %v: the wait in the queue is not counted", time.Duration(res.Response.Max), time.Duration(res.Service.P50))
	}
}

// TestLoopReplacesBrokenConnections: a server that hangs on some calls
// (timed out, the connection replaced) still gets every later call.
func TestLoopReplacesBrokenConnections(t *testing.T) {
	d := newFakeOn(true, func(n int64) (time.Duration, Outcome) {
		if n%50 == 7 {
			return blockForever, Outcome{}
		}
		return 0, Outcome{}
	})
	defer d.Close()
	res := mustRun(t, context.Background(), Config{Driver: d, Pacer: constantPacer(t, 2000), Requests: 400, Connections: 2, Timeout: 30 * time.Millisecond})
	a := res.Accounting
	if a.ByClass["timeout"] < 5 || a.OK < 350 || a.OK+a.Errors != 400 {
		t.Fatalf("accounting %+v: want every call made, about 8 timeouts", a)
	}
}
