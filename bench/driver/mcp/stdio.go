package mcp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/internal/child"
)

// msgConn is a Conn over a transport that carries JSON-RPC messages to the
// server one way and brings them back another: a stdio pipe pair, or a
// legacy SSE stream with its POST endpoint. One reader goroutine per
// connection feeds receive; the call in flight (one at a time) waits for
// the response with its id. The server's notifications, late replies to
// calls that timed out, and lines that are not JSON-RPC are skipped; its
// requests are answered (ping with an empty result, anything else with
// "method not found") so that it never waits on us.
type msgConn struct {
	// send delivers one message before deadline; it is called by the call
	// and, for answers, from other goroutines.
	send     func(msg []byte, deadline time.Time) bench.Outcome
	teardown func() error // releases the transport, after closed is closed
	timeout  time.Duration

	mu   sync.Mutex
	want int64 // the id awaited; 0 when none (ids start at 1)
	keep bool  // hand the awaited message over too (setup)
	err  error // why the connection ended
	got  chan reply

	closed    chan struct{} // closed by Close, or when the reader ends
	endOnce   sync.Once
	closeOnce sync.Once
	closeErr  error

	timer *time.Timer // the call's deadline, reused
	call  callBody
	id    int64
	body  []byte
}

// reply is a response handed to the waiting call.
type reply struct {
	o   bench.Outcome
	msg []byte // a copy of the message, when asked for
}

var _ bench.Conn = (*msgConn)(nil)

func newMsgConn(timeout time.Duration) *msgConn {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &msgConn{got: make(chan reply, 1), closed: make(chan struct{}), timer: t, timeout: timeout}
}

// end records why the connection ended and releases waiting calls.
func (c *msgConn) end(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.endOnce.Do(func() { close(c.closed) })
}

func (c *msgConn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// receive takes one message from the reader goroutine.
func (c *msgConn) receive(msg []byte) {
	var m rpcMsg
	if !scanMsg(msg, &m) {
		return
	}
	if !m.isResponse() {
		if m.id != nil && string(m.id) != "null" {
			c.answer(m.method, m.id)
		}
		return
	}
	c.mu.Lock()
	if c.want == 0 || !m.idIs(c.want) {
		c.mu.Unlock()
		return
	}
	r := reply{o: m.outcome()}
	if c.keep {
		r.msg = bytes.Clone(msg)
	}
	c.want = 0
	c.mu.Unlock()
	c.got <- r // never blocks: one delivery per want, consumed before the next
}

// answer replies to a request from the server, off the reader goroutine.
func (c *msgConn) answer(method, id []byte) {
	msg := append([]byte(rpcPrefix), id...)
	if string(method) == `"ping"` {
		msg = append(msg, `,"result":{}}`...)
	} else {
		msg = append(msg, `,"error":{"code":-32601,"message":"mcpbench answers no requests"}}`...)
	}
	go c.send(msg, time.Now().Add(c.timeout))
}

// roundTrip sends msg and waits for the response to id until deadline.
func (c *msgConn) roundTrip(msg []byte, id int64, deadline time.Time, keep bool) reply {
	select {
	case <-c.closed:
		return reply{o: bench.Outcome{Class: bench.ClassTransport}}
	default:
	}
	c.mu.Lock()
	c.want, c.keep = id, keep
	c.mu.Unlock()
	if o := c.send(msg, deadline); o.Class != bench.OK {
		c.forget()
		return reply{o: o}
	}
	c.timer.Reset(time.Until(deadline))
	select {
	case r := <-c.got:
		c.timer.Stop()
		return r
	case <-c.closed:
		c.timer.Stop()
		c.forget()
		return reply{o: bench.Outcome{Class: bench.ClassTransport}}
	case <-c.timer.C:
		c.forget()
		return reply{o: bench.Outcome{Class: bench.ClassTimeout}}
	}
}

// forget stops waiting: a response the reader has already claimed is
// drained, so that the next call starts clean.
func (c *msgConn) forget() {
	c.mu.Lock()
	claimed := c.want == 0
	c.want = 0
	c.mu.Unlock()
	if claimed {
		<-c.got
	}
}

// Call makes one tools/call.
func (c *msgConn) Call(deadline time.Time) bench.Outcome {
	c.id++
	c.body = c.call.append(c.body[:0], c.id)
	return c.roundTrip(c.body, c.id, deadline, false).o
}

// Close ends the connection; a call still waiting returns ClassTransport.
func (c *msgConn) Close() error {
	c.closeOnce.Do(func() {
		c.end(net.ErrClosed)
		c.closeErr = c.teardown()
	})
	return c.closeErr
}

// handshake sets the connection up for version: at 2026-07-28 a
// server/discover, otherwise initialize and notifications/initialized;
// "auto" tries the first and falls back to the second. It returns whether
// calls carry the 2026-07-28 _meta. Cancelling ctx ends the connection.
func (c *msgConn) handshake(ctx context.Context, version string) (modern bool, err error) {
	stop := context.AfterFunc(ctx, func() { c.end(ctx.Err()) })
	defer stop()
	deadline := driver.SetupDeadline(ctx, c.timeout)
	if version == MCP20260728 || version == "auto" {
		c.id++
		r := c.roundTrip(discoverBody(c.id), c.id, deadline, true)
		var res struct{ SupportedVersions []string }
		err := c.result(r, "server/discover", &res)
		if err == nil && slices.Contains(res.SupportedVersions, MCP20260728) {
			return true, nil
		}
		if version == MCP20260728 {
			if err == nil {
				err = fmt.Errorf("server/discover: the server does not serve %s (it lists %v)", MCP20260728, res.SupportedVersions)
			}
			return false, err
		}
		version = MCP20251125 // auto: the server counter-offers in its result
	}
	c.id++
	r := c.roundTrip(initializeBody(c.id, version), c.id, deadline, true)
	var res struct{ ProtocolVersion string }
	if err := c.result(r, "initialize", &res); err != nil {
		return false, err
	}
	if res.ProtocolVersion == "" {
		return false, errors.New("initialize: no protocolVersion in the result")
	}
	if o := c.send(initializedNote, deadline); o.Class != bench.OK {
		return false, fmt.Errorf("notifications/initialized: %v %d (%v)", o.Class, o.Code, c.cause())
	}
	return false, nil
}

// result decodes the result of a setup request into v.
func (c *msgConn) result(r reply, method string, v any) error {
	var m rpcMsg
	switch {
	case r.msg != nil && scanMsg(r.msg, &m) && m.error != nil:
		return fmt.Errorf("%s: %s", method, errorMessage(m.error))
	case r.o.Class != bench.OK || r.msg == nil:
		return fmt.Errorf("%s: %v (%v)", method, r.o.Class, c.cause())
	}
	if err := json.Unmarshal(m.result, v); err != nil {
		return fmt.Errorf("%s: result %.200s: %w", method, m.result, err)
	}
	return nil
}

// stdioDriver runs one server process per Conn and speaks newline-delimited
// JSON-RPC on its stdin and stdout.
type stdioDriver struct {
	cfg         Config
	read, wrote atomic.Int64
	mu          sync.Mutex
	open        map[*msgConn]chan struct{} // closed once the process is reaped

	cpuMu sync.Mutex
	procs []*stdioProc  // started, not yet counted as exited
	gone  time.Duration // the final CPU time of the exited ones
}

// stdioProc is one server process, for ServerCPU.
type stdioProc struct {
	*child.Process
	last time.Duration // the most CPU time read of it, under cpuMu
}

var (
	_ bench.Driver          = (*stdioDriver)(nil)
	_ bench.ByteCounter     = (*stdioDriver)(nil)
	_ bench.ServerCPUReader = (*stdioDriver)(nil)
)

// stdioReapWait bounds how long ServerCPU waits for a server that exited
// as it was read to be reaped, for its final CPU time.
const stdioReapWait = 100 * time.Millisecond

// stdioGrace is how long a stdio server gets to exit once its stdin is
// closed, and again after SIGTERM, before SIGKILL. A variable for tests.
var stdioGrace = 2 * time.Second

// maxLine bounds one message from a stdio server.
const maxLine = 64 << 20

func newStdio(cfg Config) (*stdioDriver, error) {
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, fmt.Errorf("%w: a stdio MCP driver needs the server's command", bench.ErrConfig)
	}
	if cfg.Auth != nil {
		return nil, fmt.Errorf("%w: stdio carries no OAuth (the MCP authorization spec is for HTTP)", bench.ErrConfig)
	}
	if err := checkProtocol(&cfg, MCP20251125, MCP20251125, "2025-06-18", "2025-03-26", MCP20241105, MCP20260728, "auto"); err != nil {
		return nil, err
	}
	return &stdioDriver{cfg: cfg, open: map[*msgConn]chan struct{}{}}, nil
}

// Open starts a server process in its own process group and sets it up
// (initialize, or server/discover at 2026-07-28).
func (d *stdioDriver) Open(ctx context.Context, worker int) (bench.Conn, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(d.cfg.Command[0], d.cfg.Command[1:]...)
	stderr := &child.Tail{Max: 2 << 10}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, stderr
	cp, err := child.Start(cmd)
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("starting %s: %w", d.cfg.Command[0], err)
	}
	d.cpuMu.Lock()
	d.procs = append(d.procs, &stdioProc{Process: cp})
	d.cpuMu.Unlock()

	c := newMsgConn(d.cfg.Timeout)
	c.send = d.sender(inW)
	go func() {
		err := readLines(countingReader{outR, &d.read}, c.receive)
		c.end(fmt.Errorf("server's stdout: %w", err))
	}()
	// Close asks the server to leave and returns; the process is reaped in
	// the background (grace, SIGTERM, grace, SIGKILL), and the driver's
	// Close waits for that.
	reaped := make(chan struct{})
	c.teardown = func() error {
		inW.Close() // end of input: the spec's way to ask a stdio server to leave
		go func() {
			defer close(reaped)
			if !cp.Wait(stdioGrace) {
				cp.Stop(stdioGrace) // SIGTERM, then SIGKILL
			}
			outR.Close()
			d.mu.Lock()
			delete(d.open, c)
			d.mu.Unlock()
		}()
		return nil
	}
	d.mu.Lock()
	d.open[c] = reaped
	d.mu.Unlock()
	modern, err := c.handshake(ctx, d.cfg.Protocol)
	if err != nil {
		c.Close()
		<-reaped // so that stderr is complete
		if s := stderr.String(); s != "" {
			err = fmt.Errorf("%w; its stderr ends: %q", err, s)
		}
		return nil, err
	}
	c.call = newCallBody(&d.cfg, modern)
	return c, nil
}

// sender writes each message to a server's stdin as one line.
func (d *stdioDriver) sender(in *os.File) func(msg []byte, deadline time.Time) bench.Outcome {
	var mu sync.Mutex
	var line []byte
	return func(msg []byte, deadline time.Time) bench.Outcome {
		mu.Lock()
		defer mu.Unlock()
		line = append(append(line[:0], msg...), '\n')
		_ = in.SetWriteDeadline(deadline)
		n, err := in.Write(line)
		d.wrote.Add(int64(n))
		switch {
		case err == nil:
			return bench.Outcome{Class: bench.OK}
		case errors.Is(err, os.ErrDeadlineExceeded):
			return bench.Outcome{Class: bench.ClassTimeout}
		}
		return bench.Outcome{Class: bench.ClassTransport}
	}
}

// ServerCPU sums the CPU time of every server process the driver has
// started, as ServerCPUReader says: the process CPU clock of those
// running (with their descendants, as proc.CPUTimeOf reads them), the
// rusage of those reaped. Each process's figure is held at the most read
// of it, so that the sum never goes back.
func (d *stdioDriver) ServerCPU() (time.Duration, error) {
	d.cpuMu.Lock()
	defer d.cpuMu.Unlock()
	live := d.procs[:0]
	var total time.Duration
	var err error
	for _, p := range d.procs {
		t, exited, rerr := p.cpu()
		switch {
		case rerr != nil:
			err = errors.Join(err, rerr)
			live = append(live, p)
			continue
		case exited:
			d.gone += max(t, p.last)
			continue
		}
		p.last = max(t, p.last)
		total += p.last
		live = append(live, p)
	}
	clear(d.procs[len(live):])
	d.procs = live
	if err != nil {
		return 0, err
	}
	return d.gone + total, nil
}

// cpu reads one server's CPU time, and says whether it has exited.
func (p *stdioProc) cpu() (time.Duration, bool, error) {
	if p.Exited() {
		return p.State().UserTime() + p.State().SystemTime(), true, nil
	}
	t, err := proc.CPUTimeOf(p.Pid)
	if err == nil {
		return t, false, nil
	}
	// It may have been reaped between the two: its final time comes with
	// the end of the wait.
	if p.Wait(stdioReapWait) {
		return p.State().UserTime() + p.State().SystemTime(), true, nil
	}
	return 0, false, fmt.Errorf("stdio server (pid %d) CPU time: %w", p.Pid, err)
}

// Bytes counts what crossed the pipes.
func (d *stdioDriver) Bytes() (read, written int64) { return d.read.Load(), d.wrote.Load() }

// Close stops every server still running, in parallel, and returns once
// all are reaped.
func (d *stdioDriver) Close() error {
	d.mu.Lock()
	open := maps.Clone(d.open)
	d.mu.Unlock()
	for c := range open {
		c.Close()
	}
	for _, reaped := range open {
		<-reaped
	}
	return nil
}

// readLines hands each non-empty line of r to each, without its line
// ending; the line is only valid during the call.
func readLines(r io.Reader, each func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if long = append(long, line...); len(long) > maxLine {
				return fmt.Errorf("a line over %d bytes", maxLine)
			}
			continue
		}
		if len(long) > 0 {
			long = append(long, line...)
			line = long
		}
		if err != nil {
			return err
		}
		if line = bytes.TrimRight(line, "\r\n"); len(line) > 0 {
			each(line)
		}
		long = long[:0]
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
