// Package driver holds what every driver shares: the one HTTP client
// builder, connections that count their bytes, the classification of a
// reply or a failed exchange, and the Authorizer hook through which each
// outgoing request gets its credentials. The drivers themselves live in
// the packages below it, one per protocol family.
package driver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/valyala/fasthttp"
)

// Header is one request header.
type Header struct{ Name, Value string }

// Target checks an http(s) URL and returns its host:port (the scheme's
// port when none is given) and whether it is https.
func Target(raw string) (addr string, tls bool, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", false, fmt.Errorf("%w: URL %q: want http://host:port/path", bench.ErrConfig, raw)
	}
	tls = u.Scheme == "https"
	if u.Port() == "" {
		port := "80"
		if tls {
			port = "443"
		}
		return net.JoinHostPort(u.Hostname(), port), tls, nil
	}
	return u.Host, tls, nil
}

// ClientConfig describes one fasthttp client for NewClient.
type ClientConfig struct {
	Addr string // host:port
	TLS  bool
	// TLSConfig is the client's TLS configuration for https (roots,
	// versions, groups); nil means Go's defaults.
	TLSConfig *tls.Config
	MaxConns  int
	// DialTimeout bounds each dial.
	DialTimeout time.Duration
	// Counter counts the bytes of every connection the client dials.
	Counter *Counter
	// Closed, when set and true, makes every later dial fail.
	Closed *atomic.Bool
	// Pre, when it holds a connection, is taken by the first dial.
	Pre *PreDial
	// TLSStats, with TLS, records each connection's handshake.
	TLSStats *TLSStats
}

// Dial dials one connection as the client does: TCP, counted on the
// Counter, then the TLS handshake (recorded on TLSStats) for https.
func (cfg *ClientConfig) Dial(ctx context.Context) (net.Conn, error) {
	c, err := Dial(ctx, &net.Dialer{Timeout: cfg.DialTimeout}, cfg.Addr, cfg.Counter)
	if err != nil || !cfg.TLS {
		return c, err
	}
	stats := cfg.TLSStats
	if stats == nil {
		stats = new(TLSStats)
	}
	return stats.Client(c, cfg.Addr, cfg.TLSConfig, cfg.DialTimeout)
}

// NewClient returns the fasthttp client every HTTP driver uses: keep-alive,
// headers and paths sent as given, no User-Agent of its own, and no retry —
// a benchmark must see a failed call, not a silent second attempt of an
// idempotent request on a reset connection.
func NewClient(cfg ClientConfig) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr: cfg.Addr, IsTLS: cfg.TLS, TLSConfig: cfg.TLSConfig, MaxConns: cfg.MaxConns, MaxIdleConnDuration: time.Minute,
		NoDefaultUserAgentHeader: true, DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true,
		MaxIdemponentCallAttempts: 1,
		Dial: func(addr string) (net.Conn, error) {
			if cfg.Closed != nil && cfg.Closed.Load() {
				return nil, net.ErrClosed
			}
			if c := cfg.Pre.take(); c != nil {
				return c, nil
			}
			return cfg.Dial(context.Background())
		},
	}
}

// Dial dials addr over TCP and counts the connection's bytes on w.
func Dial(ctx context.Context, dialer *net.Dialer, addr string, w *Counter) (net.Conn, error) {
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return w.Wrap(c), nil
}

// PreDial holds a connection dialed ahead (in a driver's Open), so that a
// connection's first call pays no dial.
type PreDial struct {
	mu sync.Mutex
	c  net.Conn
}

// Put leaves c for the next dial to take.
func (p *PreDial) Put(c net.Conn) {
	p.mu.Lock()
	p.c = c
	p.mu.Unlock()
}

func (p *PreDial) take() net.Conn {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.c
	p.c = nil
	return c
}

// Counter counts the bytes that cross the connections it wraps and can
// close them all. Its zero value is ready to use.
type Counter struct {
	read, written atomic.Int64
	mu            sync.Mutex
	conns         map[*countedConn]struct{}
}

// Wrap returns c counted on w.
func (w *Counter) Wrap(c net.Conn) net.Conn {
	cc := &countedConn{Conn: c, w: w}
	w.mu.Lock()
	if w.conns == nil {
		w.conns = map[*countedConn]struct{}{}
	}
	w.conns[cc] = struct{}{}
	w.mu.Unlock()
	return cc
}

// Bytes returns the bytes read and written so far.
func (w *Counter) Bytes() (read, written int64) { return w.read.Load(), w.written.Load() }

// CloseAll closes every connection still open, which also ends the calls
// blocked on them.
func (w *Counter) CloseAll() {
	w.mu.Lock()
	conns := w.conns
	w.conns = nil
	w.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

type countedConn struct {
	net.Conn
	w *Counter
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.read.Add(int64(n))
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.written.Add(int64(n))
	return n, err
}

func (c *countedConn) Close() error {
	c.w.mu.Lock()
	delete(c.w.conns, c)
	c.w.mu.Unlock()
	return c.Conn.Close()
}

// Counters keeps one Counter per connection of a driver's, so that each
// can cut its own connections, and sums them for the driver's Bytes.
type Counters struct {
	mu  sync.Mutex
	all []*Counter
}

// Add returns a new Counter, counted in the sum.
func (s *Counters) Add() *Counter {
	w := new(Counter)
	s.mu.Lock()
	s.all = append(s.all, w)
	s.mu.Unlock()
	return w
}

// Bytes sums every Counter's bytes.
func (s *Counters) Bytes() (read, written int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.all {
		r, wr := w.Bytes()
		read, written = read+r, written+wr
	}
	return read, written
}

// CloseAll closes every Counter's connections.
func (s *Counters) CloseAll() {
	s.mu.Lock()
	all := slices.Clone(s.all)
	s.mu.Unlock()
	for _, w := range all {
		w.CloseAll()
	}
}
