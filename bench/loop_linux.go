package bench

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The event loop: one locked OS thread makes every call of a run. Each
// connection is a small state machine (idle, or one call out); a request
// that falls due is written at once on an idle connection, or waits in the
// loop's queue for one to free up, its latency still counted from when it
// was due. The loop sleeps in epoll until the next request is due or a
// reply arrives, and serves everything ready in each wake-up: wake-ups,
// not the calls, are most of a generator's CPU. Its system calls are raw
// (the thread keeps its P while it blocks; Run reserves the extra P),
// which saves the scheduler's hand-off on every wake-up.

// loopQueue bounds the requests waiting for a connection; past it the loop
// stops taking from the schedule, and what was due is counted when the run
// ends, as with the workers' dispatcher.
const loopQueue = 1 << 16

// loopMaxWait bounds one sleep, so that a halt is seen promptly.
const loopMaxWait = 5 * time.Millisecond

// loopWakeMargin is how long before a request's due time an unbatched
// loop stops sleeping and polls (see run).
const loopWakeMargin = 50 * time.Microsecond

// lconn is one connection's state.
type lconn struct {
	i      int
	s      Stream
	fd     int
	rec    *workerRec
	busy   bool  // a call is out
	j      job   // the call out
	sent   int64 // when it was written, ns from the run's start
	in     []byte
	n      int // bytes in in
	out    []byte
	broken bool // no stream: opened again before its next call
	gone   bool // its recording has closed: it takes no more calls
	// recvmsg's header, with room for the kernel's receive timestamp
	// (stamped loops only).
	msg unix.Msghdr
	iov unix.Iovec
	oob [64]byte
}

// loop is the engine's state, owned by its thread.
type loop struct {
	r      *run
	sd     StreamDriver
	ctx    context.Context
	ep     int
	conns  []*lconn
	idle   []*lconn
	queue  []job // a ring of loopQueue
	qHead  int
	qLen   int
	busy   int
	events []unix.EpollEvent
	window time.Duration
	auto   bool
	// stamping: a batched loop asks its sockets for the kernel's receive
	// timestamps (SO_TIMESTAMPNS) and times each reply by the one of its
	// last byte. stamped: the kernel has given one, so replies can wait
	// in their sockets until the next batch and still be timed when they
	// arrived. (The kernel turns stamping on a moment after it is first
	// asked; until then replies are read at once and timed when read.)
	// wallOff converts the stamps' wall clock to the run's.
	stamping, stamped bool
	wallOff           int64

	// The schedule's state: open or closed loop, the next request (n,
	// next, more), when the last batch left, and whether a closed loop
	// has ended.
	open     bool
	n        uint64
	next     job
	more     bool
	lastSend int64
	ending   bool
	// bytes moved, read by other goroutines at the segment's marks.
	bytesR, bytesW atomic.Int64
}

func (r *run) newLoop(ctx context.Context, sd StreamDriver, streams []Stream) (*loop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("event loop: %w", err)
	}
	l := &loop{r: r, sd: sd, ctx: ctx, ep: ep, queue: make([]job, loopQueue), events: make([]unix.EpollEvent, 256),
		window: r.cfg.Batch}
	if l.window == BatchAuto {
		l.auto, l.window = true, 0
	}
	l.stamping = (l.window > 0 || l.auto) && !r.cfg.Closed
	for i, s := range streams {
		c := &lconn{i: i, s: s, fd: -1, rec: r.recs[i], in: make([]byte, 16<<10), out: make([]byte, 0, 4<<10), broken: s == nil}
		if s == nil {
			l.conns = append(l.conns, c)
			continue
		}
		c.fd = s.Fd()
		if l.stamping && stampSocket(c.fd) != nil {
			l.stamping = false
		}
		if err := l.watch(c); err != nil {
			unix.Close(ep)
			return nil, fmt.Errorf("event loop: %w", err)
		}
		l.conns = append(l.conns, c)
	}
	for i := len(l.conns) - 1; i >= 0; i-- {
		l.idle = append(l.idle, l.conns[i])
	}
	return l, nil
}

// stampSocket asks socket fd for the kernel's receive timestamps. Setup
// asks before its cold call, so that the kernel, which turns stamping on
// a moment later, has done so by the first measured reply.
func stampSocket(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
}

func (l *loop) watch(c *lconn) error {
	return unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.i)})
}

// bytes returns the bytes read and written so far.
func (l *loop) bytes() (read, written int64) {
	return l.bytesR.Load(), l.bytesW.Load()
}

// run is the loop's thread. It returns when the schedule has ended and
// every call is back, or once the run is halted (calls out stay out).
func (l *loop) run() {
	r := l.r
	defer close(r.dispatchDone)
	defer r.scheduleEnded()
	defer func() {
		r.stamped.Store(l.stamped)
		for _, rec := range r.recs {
			rec.leave()
		}
		// The streams now open are the run's to close; those the loop
		// replaced it closed itself.
		for i, c := range l.conns {
			r.streams[i] = nil
			if !c.broken {
				r.streams[i] = c.s
			}
		}
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lowerTimerSlack()
	defer unix.Close(l.ep)

	l.open = !r.cfg.Closed
	if l.open {
		l.next, l.more = r.slot(0, 0)
	}
	l.lastSend = math.MinInt64 / 2
	checked := int64(0)
	for {
		if r.stopped.Load() {
			l.halted()
			return
		}
		now := r.now()
		if now-checked >= int64(time.Millisecond) {
			l.expire(now)
			checked = now
		}
		if l.schedule(now) {
			return
		}
		k := l.sleep(now)
		if l.stamping { // one clock read gives both clocks
			t := time.Now()
			now = int64(t.Sub(r.start))
			l.wallOff = t.UnixNano() - now
		} else {
			now = r.now()
		}
		for _, ev := range l.events[:k] {
			l.readable(l.conns[ev.Fd], now)
		}
		if l.open {
			l.pump() // queued requests are late already: they leave at once
		}
	}
}

// halted counts, once the run is halted, the open loop's measured requests
// that were due and never taken, and those left in its queue.
func (l *loop) halted() {
	r := l.r
	if !l.open {
		return
	}
	r.countLeftDue(l.n)
	for k := 0; k < l.qLen; k++ {
		if !l.queue[(l.qHead+k)%loopQueue].warm {
			r.leftQueued++
		}
	}
}

// schedule starts the calls that are due at now: the open loop's queue
// and the requests the schedule has made due (with a window, those leave
// in batches, at most once per window), or the closed loop's next calls.
// It reports whether the run's calls are all made and back.
func (l *loop) schedule(now int64) (done bool) {
	r := l.r
	if !l.open {
		for !l.ending && len(l.idle) > 0 {
			c := l.idle[len(l.idle)-1]
			l.idle = l.idle[:len(l.idle)-1]
			l.ending = !l.sendClosed(c)
		}
		return l.ending && l.busy == 0
	}
	l.pump()
	if l.window == 0 || now-l.lastSend >= int64(l.window) {
		sent := l.busy
		for l.more && l.next.due <= now && l.qLen < loopQueue {
			if !l.next.warm {
				r.markStart()
			}
			if l.next.warm || r.cfg.lose == nil || !r.cfg.lose("dispatch") {
				if !l.next.warm {
					r.created++
				}
				l.take(l.next)
			}
			l.n++
			l.next, l.more = r.slot(l.n, r.created)
		}
		if l.busy != sent {
			l.lastSend = now
		}
	}
	if l.more {
		return false
	}
	r.scheduleEnded()
	return l.qLen == 0 && l.busy == 0
}

// sleep waits in epoll until the next request is due (or the window
// allows the next batch), a reply arrives, or a bound passes, and returns
// how many events it got. An unbatched loop sleeps until a margin before
// the due time, then polls: waking from an idle CPU takes tens of
// microseconds on a virtual machine, and each would make the request
// late. The margin is at most 5% of the time between requests, so polling
// costs at most 5% of a CPU.
func (l *loop) sleep(now int64) int {
	wait := loopMaxWait
	var spinFrom, spinTo int64 // poll, not sleep, between these
	if l.open && l.more && l.qLen < loopQueue {
		at := l.next.due
		rate := l.r.cfg.Pacer.Rate(time.Duration(now))
		if l.auto {
			l.window = AutoBatch(rate)
		}
		if w := int64(l.window); w > 0 && at < l.lastSend+w {
			at = l.lastSend + w
		} else if w == 0 && rate > 0 {
			spinTo = at
			at -= min(int64(loopWakeMargin), int64(float64(time.Second)/rate/20))
			spinFrom = at
		}
		wait = min(wait, time.Duration(at-now))
	}
	if l.busy > 0 {
		wait = min(wait, time.Millisecond)
	}
	k := 0
	switch {
	case wait > 0 && l.stamped && l.qLen == 0 && l.window > 0:
		// Nothing waits for a connection: the replies can wait in their
		// sockets, timed by the kernel, until the next batch. Most of a
		// generator's CPU is its wake-ups; this saves one per reply.
		ts := unix.NsecToTimespec(int64(wait))
		_, _, _ = unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
		k = l.wait(0)
	case wait > 0:
		k = l.wait(wait)
	}
	if spinTo > 0 && k == 0 && l.r.now() >= spinFrom {
		for k == 0 && l.r.now() < spinTo {
			k = l.wait(0)
		}
	}
	return k
}

// take gives a job that has fallen due to an idle connection, or queues it.
func (l *loop) take(j job) {
	if len(l.idle) > 0 && l.qLen == 0 {
		c := l.idle[len(l.idle)-1]
		l.idle = l.idle[:len(l.idle)-1]
		l.send(c, j)
		return
	}
	l.queue[(l.qHead+l.qLen)%loopQueue] = j
	l.qLen++
}

// free puts a connection whose call has ended back on the idle list; pump
// gives it the next queued job.
func (l *loop) free(c *lconn) {
	if !c.gone {
		l.idle = append(l.idle, c)
	}
}

// pump gives queued jobs, oldest first, to idle connections.
func (l *loop) pump() {
	for l.qLen > 0 && len(l.idle) > 0 && !l.r.stopped.Load() {
		j := l.queue[l.qHead]
		l.qHead, l.qLen = (l.qHead+1)%loopQueue, l.qLen-1
		c := l.idle[len(l.idle)-1]
		l.idle = l.idle[:len(l.idle)-1]
		l.send(c, j)
	}
}

// send makes job j's call on c. A call that cannot be written ends at once
// (a transport error, or no token) and frees c again.
func (l *loop) send(c *lconn, j job) {
	r := l.r
	if r.cfg.lose != nil && !j.warm && r.cfg.lose("worker") {
		l.free(c)
		return
	}
	if !c.rec.begin(j.warm, r.stopped.Load()) {
		c.gone = true
		return
	}
	c.j = j
	var o Outcome
	if c.broken && !l.reopen(c) {
		o = Outcome{Class: ClassTransport}
	} else {
		c.out, o = c.s.Request(c.out[:0])
	}
	// Sent once encoded: a new connection's dial and the client's own
	// work on the request (a DPoP proof's signature, ~40 µs) count as
	// lag and in the response time, not as the server's service time.
	c.sent = r.now()
	if o.Class != OK {
		l.end(c, c.sent, o)
		l.free(c)
		return
	}
	if !l.write(c) {
		l.fail(c, r.now(), Outcome{Class: ClassTransport})
		return
	}
	c.busy = true
	l.busy++
}

// sendClosed starts the closed loop's next call on c, or returns false
// once the segment or the count has ended.
func (l *loop) sendClosed(c *lconn) bool {
	r := l.r
	sent := r.now()
	warm := sent < int64(r.cfg.Warmup)
	if r.end > 0 && sent >= int64(r.end) || !warm && r.cfg.Requests > 0 && r.claimed.Add(1) > r.cfg.Requests {
		l.free(c)
		r.scheduleEnded()
		return false
	}
	if !warm {
		r.markStart()
	}
	l.send(c, job{due: sent, warm: warm})
	return true
}

// fail ends c's call at t with outcome o, closes its connection (the next
// call opens another) and frees it.
func (l *loop) fail(c *lconn, t int64, o Outcome) {
	l.end(c, t, o)
	l.breakConn(c)
	l.free(c)
}

// end records c's call as ended at t with outcome o.
func (l *loop) end(c *lconn, t int64, o Outcome) {
	if c.busy {
		c.busy = false
		l.busy--
	}
	if !c.rec.end(c.j.due, c.sent, t, o, c.j.warm) {
		c.gone = true
	}
}

// readable reads what c's socket holds and ends the calls it completes.
func (l *loop) readable(c *lconn, now int64) {
	if c.broken {
		return
	}
	if c.n == len(c.in) {
		c.in = append(c.in, make([]byte, len(c.in))...)[:cap(c.in)]
	}
	var m int
	var errno unix.Errno
	if l.stamping {
		var at int64
		m, at, errno = l.recv(c)
		if m > 0 {
			// A stamp's wall clock could have been stepped since: a
			// reply still ends between its sending and now.
			if l.stamped = at > 0; l.stamped {
				now = min(max(at-l.wallOff, c.sent), now)
			}
		}
	} else {
		m, errno = rawRead(c.fd, c.in[c.n:])
	}
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return
	}
	if m <= 0 { // the server closed, or the socket failed
		if c.busy {
			l.fail(c, now, Outcome{Class: ClassTransport})
		} else {
			l.breakConn(c)
		}
		return
	}
	l.bytesR.Add(int64(m))
	c.n += m
	for c.n > 0 {
		if !c.busy { // bytes nobody asked for: the connection cannot be trusted
			l.breakConn(c)
			return
		}
		k, o, keep := c.s.Reply(c.in[:c.n])
		if k == 0 {
			return
		}
		if k < 0 {
			l.fail(c, now, Outcome{Class: ClassTransport})
			return
		}
		c.n = copy(c.in, c.in[k:c.n])
		l.end(c, now, o)
		if !keep {
			l.breakConn(c)
		}
		l.free(c)
	}
}

// expire ends the calls out longer than the timeout; their connections are
// replaced, so that a late reply is not taken for the next call's.
func (l *loop) expire(now int64) {
	limit := int64(l.r.cfg.Timeout)
	for _, c := range l.conns {
		if c.busy && now-c.sent >= limit {
			l.fail(c, now, Outcome{Class: ClassTimeout})
		}
	}
}

// breakConn closes c's stream; its next call opens another.
func (l *loop) breakConn(c *lconn) {
	if c.broken {
		return
	}
	_ = unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, c.fd, nil)
	_ = c.s.Close()
	c.broken, c.n = true, 0
}

// reopen replaces c's stream (a blocking dial on the loop's thread).
func (l *loop) reopen(c *lconn) bool {
	s, err := l.sd.OpenStream(l.ctx, c.i)
	if err != nil {
		return false
	}
	c.s, c.fd = s, s.Fd()
	if l.stamping && stampSocket(c.fd) != nil {
		l.stamping, l.stamped = false, false
	}
	if l.watch(c) != nil {
		_ = s.Close()
		return false
	}
	c.broken = false
	return true
}

// write writes c's request whole: a socket with nothing in flight takes a
// small request at once, and a larger one waits here until it is taken.
func (l *loop) write(c *lconn) bool {
	b := c.out
	for len(b) > 0 {
		m, errno := rawWrite(c.fd, b)
		switch {
		case errno == unix.EAGAIN:
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, int(l.r.cfg.Timeout/time.Millisecond)); err != nil && err != unix.EINTR {
				return false
			}
		case errno == unix.EINTR:
		case errno != 0 || m <= 0:
			return false
		default:
			l.bytesW.Add(int64(m))
			b = b[m:]
		}
	}
	return true
}

// wait sleeps in epoll for at most d and returns how many events it got.
func (l *loop) wait(d time.Duration) int {
	ts := unix.NsecToTimespec(int64(d))
	k, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT2, uintptr(l.ep), uintptr(unsafe.Pointer(&l.events[0])),
		uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
	if errno != 0 {
		return 0
	}
	return int(k)
}

// recv reads into c.in with recvmsg and returns the kernel's receive
// timestamp of the last byte read (wall clock, ns), or 0 if it gave none.
func (l *loop) recv(c *lconn) (n int, at int64, errno unix.Errno) {
	b := c.in[c.n:]
	c.iov.Base = &b[0]
	c.iov.SetLen(len(b))
	c.msg.Iov = &c.iov
	c.msg.Iovlen = 1
	c.msg.Control = &c.oob[0]
	c.msg.SetControllen(len(c.oob))
	r, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.msg)), 0)
	if errno != 0 {
		return 0, 0, errno
	}
	oob := c.oob[:c.msg.Controllen]
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if h.Len < unix.SizeofCmsghdr || int(h.Len) > len(oob) {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && int(h.Len) >= unix.SizeofCmsghdr+16 {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.SizeofCmsghdr]))
			at = ts.Nano()
		}
		step := (int(h.Len) + 7) &^ 7
		if step >= len(oob) {
			break
		}
		oob = oob[step:]
	}
	return int(r), at, 0
}

func rawRead(fd int, b []byte) (int, unix.Errno) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errno
}

func rawWrite(fd int, b []byte) (int, unix.Errno) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errno
}

// callStream makes one call on s, blocking: setup's cold call. keep says
// whether s can carry another.
func callStream(s Stream, timeout time.Duration) (o Outcome, keep bool) {
	o, keep = callStreamOnce(s, timeout)
	return o, keep && o.Class != ClassTimeout && o.Class != ClassTransport
}

func callStreamOnce(s Stream, timeout time.Duration) (Outcome, bool) {
	req, o := s.Request(nil)
	if o.Class != OK {
		return o, true
	}
	deadline := time.Now().Add(timeout)
	fds := []unix.PollFd{{Fd: int32(s.Fd())}}
	for len(req) > 0 {
		m, err := unix.Write(s.Fd(), req)
		if err == unix.EAGAIN {
			fds[0].Events = unix.POLLOUT
			unix.Poll(fds, int(time.Until(deadline)/time.Millisecond)+1)
			continue
		}
		if err != nil {
			return Outcome{Class: ClassTransport}, false
		}
		req = req[m:]
	}
	buf := make([]byte, 0, 16<<10)
	for {
		if time.Now().After(deadline) {
			return Outcome{Class: ClassTimeout}, false
		}
		m, err := unix.Read(s.Fd(), buf[len(buf):cap(buf)])
		switch {
		case err == unix.EAGAIN:
			fds[0].Events = unix.POLLIN
			unix.Poll(fds, int(time.Until(deadline)/time.Millisecond)+1)
			continue
		case err != nil || m == 0:
			return Outcome{Class: ClassTransport}, false
		}
		buf = buf[:len(buf)+m]
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		if k, o, keep := s.Reply(buf); k != 0 {
			if k < 0 {
				return Outcome{Class: ClassTransport}, false
			}
			return o, keep && k == len(buf)
		}
	}
}
