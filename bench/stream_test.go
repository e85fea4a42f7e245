package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
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
	fd, srv, err := tcpPair()
	if err != nil {
		return nil, err
	}
	go d.serve(srv)
	return &fakeStream{fd: fd}, nil
}

// tcpPair connects a raw non-blocking client socket to a server end on
// loopback: TCP, so that the kernel stamps what the client receives, as
// it does the real drivers' replies.
func tcpPair() (fd int, srv net.Conn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return -1, nil, err
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return -1, nil, err
	}
	defer c.Close()
	if srv, err = ln.Accept(); err != nil {
		return -1, nil, err
	}
	f, err := c.(*net.TCPConn).File() // a duplicate, out of Go's poller
	if err == nil {
		fd, err = unix.Dup(int(f.Fd()))
		f.Close()
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		srv.Close()
		return -1, nil, err
	}
	return fd, srv, nil
}

// serve answers one stream's requests until the client or the driver
// closes it.
func (d *fakeDriver) serve(f net.Conn) {
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

// engine is one way of making the calls, for tests that run on each.
type engine struct {
	stream bool          // the fake streams: the loop makes the calls
	batch  time.Duration // the loop's batching window
}

// engines runs f once per engine: the workers, the loop, and the loop
// batched (which leaves replies in their sockets between batches).
func engines(t *testing.T, f func(t *testing.T, e engine)) {
	for _, e := range []struct {
		name string
		engine
	}{{EngineWorkers, engine{}}, {EngineLoop, engine{stream: true}}, {"loop-batched", engine{true, time.Millisecond}}} {
		t.Run(e.name, func(t *testing.T) { f(t, e.engine) })
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

// TestLoopStampsReplies is the known answer behind a batched loop's reply
// times: a reply left 20 ms in its socket is timed when the kernel
// received it, inside the server's write, not when it was read.
func TestLoopStampsReplies(t *testing.T) {
	fd, srv, err := tcpPair()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	defer unix.Close(fd)
	l := &loop{}
	c := &lconn{fd: fd, in: make([]byte, 64)}
	if err := stampSocket(c.fd); err != nil {
		t.Fatal(err)
	}
	read := func() (at int64) {
		for range 1000 {
			n, at, errno := l.recv(c)
			if errno == 0 && n > 0 {
				return at
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatal("nothing to read")
		return 0
	}
	// The kernel turns stamping on a moment after it is first asked.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := srv.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if read() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the kernel stamps no reply")
		}
	}
	before := time.Now().UnixNano()
	if _, err := srv.Write([]byte("reply\n")); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixNano()
	time.Sleep(20 * time.Millisecond)
	at := read()
	if at < before || at > after {
		t.Fatalf("stamped %v after the write began (it took %v): want within the write", time.Duration(at-before), time.Duration(after-before))
	}
}

// TestLoopBatchedTimesArrival: a batched loop reads replies only at its
// next wake-up, up to a millisecond after they came, yet their service
// times match an unbatched loop's, which reads each as it comes.
func TestLoopBatchedTimesArrival(t *testing.T) {
	p50 := func(batch time.Duration) time.Duration {
		d := newFakeOn(true, nil)
		defer d.Close()
		res := mustRun(t, context.Background(), Config{Driver: d, Pacer: constantPacer(t, 200), Requests: 200, Connections: 1, Batch: batch})
		return time.Duration(res.Service.P50)
	}
	unbatched, batched := p50(0), p50(time.Millisecond)
	t.Logf("service p50: unbatched %v, batched %v", unbatched, batched)
	if batched > unbatched+500*time.Microsecond {
		t.Fatalf("batched service p50 %v against %v unbatched: replies timed when read, not when they came", batched, unbatched)
	}
}
