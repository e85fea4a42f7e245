// Package httpcall is the driver of plain HTTP stacks: one request,
// repeated over a keep-alive pool (the REST gateway's tool route, a
// GraphQL query, any URL given to load).
package httpcall

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"
)

// Config describes the one request an HTTP driver repeats.
type Config struct {
	URL    string // http://host:port/path
	Method string // default GET, or POST when Body is set
	Header []driver.Header
	Body   []byte
	// Connections sizes the keep-alive pool; default 16. Give it the run's
	// Connections so that every worker has a connection of its own.
	Connections int
	// Classify turns a complete reply into an outcome. Default: 2xx is OK,
	// 429 ClassRateLimited, anything else ClassHTTP with the status as its code.
	// It is called from several workers at once.
	Classify func(*fasthttp.Response) bench.Outcome
	// DialTimeout bounds each dial; default 5s.
	DialTimeout time.Duration
	// TLS configures https (roots, or skipping verification); nil means
	// Go's defaults.
	TLS *tls.Config
	// NewConnPerCall closes the connection after every call (Connection:
	// close), so that each call dials, and for https handshakes, afresh.
	NewConnPerCall bool
	// HTTP2 calls over HTTP/2 (h2 by ALPN for https, h2c with prior
	// knowledge for http) on H2Conns connections (default 1), each call a
	// stream, on net/http's transport; the workers engine only.
	HTTP2   bool
	H2Conns int
	// Auth, when set, puts credentials on each request (driver.BearerOf
	// a token source, for a bearer token). If it is also a Preparer, the
	// driver's Prepare runs it.
	Auth driver.Authorizer
}

// Driver calls one HTTP endpoint over a fasthttp keep-alive pool. It
// counts the bytes it moves on the wire, headers included.
type Driver struct {
	cfg    Config
	addr   string
	tls    bool
	custom bool // cfg.Classify was given: replies are parsed whole for it
	nonces bool // cfg.Auth takes DPoP nonces from the replies
	client driver.Doer
	h2     *driver.H2 // with HTTP2
	wire   driver.Counter
	tlsLog driver.TLSStats
}

var (
	_ bench.Driver        = (*Driver)(nil)
	_ bench.ByteCounter   = (*Driver)(nil)
	_ bench.Preparer      = (*Driver)(nil)
	_ bench.PhaseReporter = (*Driver)(nil)
	_ bench.StreamDriver  = (*Driver)(nil)
	_ bench.TLSReporter   = (*Driver)(nil)
)

// New returns a driver for cfg, or an error naming what is wrong with it.
func New(cfg Config) (*Driver, error) {
	addr, tls, err := driver.Target(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Method == "" {
		cfg.Method = fasthttp.MethodGet
		if cfg.Body != nil {
			cfg.Method = fasthttp.MethodPost
		}
	}
	if cfg.Connections == 0 {
		cfg.Connections = 16
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	custom := cfg.Classify != nil
	if !custom {
		cfg.Classify = driver.ClassifyStatus
	}
	d := &Driver{cfg: cfg, addr: addr, tls: tls, custom: custom}
	_, d.nonces = cfg.Auth.(driver.NonceTaker)
	cc := driver.ClientConfig{Addr: addr, TLS: tls, TLSConfig: cfg.TLS, MaxConns: cfg.Connections,
		DialTimeout: cfg.DialTimeout, Counter: &d.wire, TLSStats: &d.tlsLog}
	switch {
	case cfg.HTTP2 && cfg.NewConnPerCall:
		return nil, fmt.Errorf("%w: HTTP/2 multiplexes calls on its connections: no new connection per call", bench.ErrConfig)
	case cfg.HTTP2:
		d.h2 = driver.NewH2(cc, cfg.H2Conns)
		d.client = d.h2.Conn()
	default:
		d.client = driver.NewClient(cc)
	}
	return d, nil
}

// Open returns a worker's connection: its own request and response, sharing
// the driver's pool.
func (d *Driver) Open(ctx context.Context, worker int) (bench.Conn, error) {
	c := &httpConn{d: d, req: new(fasthttp.Request), resp: new(fasthttp.Response)}
	req := c.req
	req.SetRequestURI(d.cfg.URL)
	req.Header.SetMethod(d.cfg.Method)
	req.Header.Set("User-Agent", "mcpbench")
	for _, h := range d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if d.cfg.Body != nil {
		req.SetBodyRaw(d.cfg.Body)
	}
	if d.cfg.NewConnPerCall {
		req.SetConnectionClose()
	}
	return c, nil
}

// Prepare runs the authorizer's own preparation (OAuth discovery, the
// first token), if it has one.
func (d *Driver) Prepare(ctx context.Context) error {
	if p, ok := d.cfg.Auth.(bench.Preparer); ok {
		return p.Prepare(ctx)
	}
	return nil
}

// SetupPhases reports the authorizer's preparation steps, if it times
// them, in a map of the caller's own.
func (d *Driver) SetupPhases() map[string]time.Duration {
	if p, ok := d.cfg.Auth.(bench.PhaseReporter); ok {
		return maps.Clone(p.SetupPhases())
	}
	return nil
}

// TakeTLS returns the handshakes of the driver's https connections since
// the last TakeTLS.
func (d *Driver) TakeTLS() *bench.TLSInfo { return d.tlsLog.Take() }

// Bytes returns the bytes read and written on the driver's connections.
func (d *Driver) Bytes() (read, written int64) { return d.wire.Bytes() }

// Close closes every connection the driver dialed, which also ends calls
// still blocked on one.
func (d *Driver) Close() error {
	d.client.CloseIdleConnections()
	if d.h2 != nil {
		d.h2.Close()
	}
	d.wire.CloseAll()
	return nil
}

type httpConn struct {
	d    *Driver
	req  *fasthttp.Request
	resp *fasthttp.Response
}

func (c *httpConn) Call(deadline time.Time) bench.Outcome {
	// An authorizer only does I/O when it has no credentials at hand
	// (bounded by its client's timeout), so no per-call context is made.
	if c.d.cfg.Auth != nil && c.d.cfg.Auth.Authorize(context.Background(), driver.Fast(c.req)) != nil {
		return bench.Outcome{Class: bench.ClassToken}
	}
	if err := c.d.client.DoDeadline(c.req, c.resp, deadline); err != nil {
		return driver.ClassifyError(err)
	}
	if c.d.nonces && driver.NonceRefused(c.d.cfg.Auth, c.resp) {
		// The server asks for its DPoP nonce: once more, with it.
		if c.d.cfg.Auth.Authorize(context.Background(), driver.Fast(c.req)) != nil {
			return bench.Outcome{Class: bench.ClassToken}
		}
		if err := c.d.client.DoDeadline(c.req, c.resp, deadline); err != nil {
			return driver.ClassifyError(err)
		}
	}
	return c.d.cfg.Classify(c.resp)
}

// Close does nothing: the pool is the driver's, and a call still blocked
// returns by its deadline or when the driver closes its connections.
func (c *httpConn) Close() error { return nil }

// Streamable says whether the driver's calls can run on the event loop:
// plain HTTP/1.1 over kept-alive connections can; HTTPS needs the
// workers' TLS client, a new connection per call their dialing client,
// and HTTP/2 net/http's.
func (d *Driver) Streamable() bool { return !d.tls && !d.cfg.NewConnPerCall && !d.cfg.HTTP2 }

// HTTP2 reports the HTTP/2 connections and the streams on them; nil for
// HTTP/1.1.
func (d *Driver) HTTP2() *bench.HTTP2Info { return h2Info(d.h2, d.cfg.Connections) }

func h2Info(h *driver.H2, callers int) *bench.HTTP2Info {
	if h == nil {
		return nil
	}
	return &bench.HTTP2Info{Connections: h.Connections(), Dials: h.Dials(), Streams: callers, ServerMaxStreams: h.MaxStreams()}
}

// OpenStream dials one connection of the event loop's, with the request it
// repeats.
func (d *Driver) OpenStream(ctx context.Context, conn int) (bench.Stream, error) {
	q, err := driver.NewRawRequest(d.cfg.Method, d.cfg.URL, append([]driver.Header{{Name: "User-Agent", Value: "mcpbench"}}, d.cfg.Header...), d.cfg.Body)
	if err != nil {
		return nil, err
	}
	fd, err := driver.DialSocket(ctx, d.addr, d.cfg.DialTimeout)
	if err != nil {
		return nil, err
	}
	s := &stream{d: d, fd: fd, q: q}
	if d.custom {
		s.resp = new(fasthttp.Response)
		s.br = bufio.NewReaderSize(&s.rd, 4096)
	}
	return s, nil
}

// stream is one event-loop connection.
type stream struct {
	d    *Driver
	fd   int
	q    *driver.RawRequest
	resp *fasthttp.Response // for a custom Classify
	rd   bytes.Reader
	br   *bufio.Reader
}

func (s *stream) Fd() int { return s.fd }

func (s *stream) Request(dst []byte) ([]byte, bench.Outcome) {
	if s.d.cfg.Auth != nil && s.d.cfg.Auth.Authorize(context.Background(), s.q) != nil {
		return dst, bench.Outcome{Class: bench.ClassToken}
	}
	return s.q.AppendTo(dst), bench.Outcome{}
}

func (s *stream) Reply(buf []byte) (int, bench.Outcome, bool) {
	f, ok, err := driver.ReadFrame(buf)
	if err != nil {
		return -1, bench.Outcome{}, false
	}
	if !ok {
		return 0, bench.Outcome{}, true
	}
	if s.d.nonces {
		// The server's DPoP nonce: the calls that follow carry it (a call
		// refused for want of it is not made again on the loop).
		driver.TakeNonce(s.d.cfg.Auth, driver.HeaderValue(f.Header, "DPoP-Nonce"))
	}
	if s.resp == nil {
		return f.Len, driver.StatusOutcome(f.Status), !f.Close
	}
	s.rd.Reset(buf[:f.Len])
	s.br.Reset(&s.rd)
	s.resp.Reset()
	if err := s.resp.Read(s.br); err != nil {
		return -1, bench.Outcome{}, false
	}
	return f.Len, s.d.cfg.Classify(s.resp), !f.Close
}

func (s *stream) Close() error { return unix.Close(s.fd) }
