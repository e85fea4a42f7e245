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
)

// Driver measures a raw round trip: each call writes Size bytes to a
// TCP echo server and reads them back. It is the floor under every stack.
type Driver struct {
	Addr string // host:port of an echo server
	Size int    // bytes per call; default 64
	wire driver.Counter
}

var (
	_ bench.Driver      = (*Driver)(nil)
	_ bench.ByteCounter = (*Driver)(nil)
)

// Open dials one connection for a worker.
func (d *Driver) Open(ctx context.Context, worker int) (bench.Conn, error) {
	size := d.Size
	if size == 0 {
		size = 64
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: echo size %d", bench.ErrConfig, size)
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
	return &tcpEchoConn{c: d.wire.Wrap(c), out: out, in: make([]byte, size)}, nil
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
