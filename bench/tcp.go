package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// TCPEchoDriver measures a raw round trip: each call writes Size bytes to a
// TCP echo server and reads them back. It is the floor under every stack.
type TCPEchoDriver struct {
	Addr string // host:port of an echo server
	Size int    // bytes per call; default 64
	wire wireCounter
}

var (
	_ Driver      = (*TCPEchoDriver)(nil)
	_ ByteCounter = (*TCPEchoDriver)(nil)
)

// Open dials one connection for a worker.
func (d *TCPEchoDriver) Open(ctx context.Context, worker int) (Conn, error) {
	size := d.Size
	if size == 0 {
		size = 64
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: echo size %d", ErrConfig, size)
	}
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	out := make([]byte, size)
	for i := range out {
		out[i] = byte('a' + i%26)
	}
	return &tcpEchoConn{c: d.wire.wrap(c), out: out, in: make([]byte, size)}, nil
}

// Bytes returns the bytes read and written.
func (d *TCPEchoDriver) Bytes() (read, written int64) { return d.wire.bytes() }

// Close closes every connection still open.
func (d *TCPEchoDriver) Close() error { d.wire.closeAll(); return nil }

type tcpEchoConn struct {
	c       net.Conn
	out, in []byte
}

func (c *tcpEchoConn) Call(deadline time.Time) Outcome {
	if err := c.c.SetDeadline(deadline); err != nil {
		return ClassifyError(err)
	}
	if _, err := c.c.Write(c.out); err != nil {
		return ClassifyError(err)
	}
	if _, err := io.ReadFull(c.c, c.in); err != nil {
		return ClassifyError(err)
	}
	return Outcome{Class: OK}
}

func (c *tcpEchoConn) Close() error { return c.c.Close() }
