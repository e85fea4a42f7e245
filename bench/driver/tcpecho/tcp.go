// Package tcpecho is the driver of the TCP echo floor: the cost of a
// round trip of the same bytes with no protocol on top.
package tcpecho

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"golang.org/x/sys/unix"
)

// Driver measures a raw round trip: each call writes Size bytes to a
// TCP echo server and reads them back. It is the floor under every stack.
type Driver struct {
	Addr string // host:port of an echo server
	Size int    // bytes per call; default 64
	wire driver.Counter
}

var (
	_ bench.Driver       = (*Driver)(nil)
	_ bench.ByteCounter  = (*Driver)(nil)
	_ bench.StreamDriver = (*Driver)(nil)
)

// payload is the bytes each call sends.
func (d *Driver) payload() ([]byte, error) {
	size := d.Size
	if size == 0 {
		size = 64
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: echo size %d", bench.ErrConfig, size)
	}
	out := make([]byte, size)
	for i := range out {
		out[i] = byte('a' + i%26)
	}
	return out, nil
}

// Open dials one connection for a worker.
func (d *Driver) Open(ctx context.Context, worker int) (bench.Conn, error) {
	out, err := d.payload()
	if err != nil {
		return nil, err
	}
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &tcpEchoConn{c: d.wire.Wrap(c), out: out, in: make([]byte, len(out))}, nil
}

// Bytes returns the bytes read and written.
func (d *Driver) Bytes() (read, written int64) { return d.wire.Bytes() }

// Close closes every connection still open.
func (d *Driver) Close() error { d.wire.CloseAll(); return nil }

type tcpEchoConn struct {
	c       net.Conn
	out, in []byte
}

func (c *tcpEchoConn) Call(deadline time.Time) bench.Outcome {
	if err := c.c.SetDeadline(deadline); err != nil {
		return driver.ClassifyError(err)
	}
	if _, err := c.c.Write(c.out); err != nil {
		return driver.ClassifyError(err)
	}
	if _, err := io.ReadFull(c.c, c.in); err != nil {
		return driver.ClassifyError(err)
	}
	return bench.Outcome{Class: bench.OK}
}

func (c *tcpEchoConn) Close() error { return c.c.Close() }

// Streamable says that the echo's calls can run on the event loop.
func (d *Driver) Streamable() bool { return true }

// OpenStream dials one connection for the event loop.
func (d *Driver) OpenStream(ctx context.Context, conn int) (bench.Stream, error) {
	out, err := d.payload()
	if err != nil {
		return nil, err
	}
	fd, err := driver.DialSocket(ctx, d.Addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &echoStream{fd: fd, out: out}, nil
}

type echoStream struct {
	fd  int
	out []byte
}

func (s *echoStream) Fd() int { return s.fd }
func (s *echoStream) Request(dst []byte) ([]byte, bench.Outcome) {
	return append(dst, s.out...), bench.Outcome{}
}

// Reply takes the echo whole once all its bytes are back.
func (s *echoStream) Reply(buf []byte) (int, bench.Outcome, bool) {
	if len(buf) < len(s.out) {
		return 0, bench.Outcome{}, true
	}
	return len(s.out), bench.Outcome{Class: bench.OK}, true
}
func (s *echoStream) Close() error { return unix.Close(s.fd) }
