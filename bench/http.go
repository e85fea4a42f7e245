package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Header is one request header.
type Header struct{ Name, Value string }

// HTTPConfig describes the one request an HTTP driver repeats.
type HTTPConfig struct {
	URL    string // http://host:port/path
	Method string // default GET, or POST when Body is set
	Header []Header
	Body   []byte
	// Connections sizes the keep-alive pool; default 16. Give it the run's
	// Connections so that every worker has a connection of its own.
	Connections int
	// Classify turns a complete reply into an outcome. Default: 2xx is OK,
	// 429 ClassRateLimited, anything else ClassHTTP with the status as its code.
	// It is called from several workers at once.
	Classify func(*fasthttp.Response) Outcome
	// DialTimeout bounds each dial; default 5s.
	DialTimeout time.Duration
	// Token, when set, gives each call's bearer token (Authorization:
	// Bearer). If it is also a Preparer, the driver's Prepare runs it.
	Token TokenSource
}

// HTTPDriver calls one HTTP endpoint over a fasthttp keep-alive pool. It
// counts the bytes it moves on the wire, headers included.
type HTTPDriver struct {
	cfg    HTTPConfig
	client *fasthttp.HostClient
	wire   wireCounter
}

var (
	_ Driver        = (*HTTPDriver)(nil)
	_ ByteCounter   = (*HTTPDriver)(nil)
	_ Preparer      = (*HTTPDriver)(nil)
	_ PhaseReporter = (*HTTPDriver)(nil)
)

// NewHTTP returns a driver for cfg, or an error naming what is wrong with it.
func NewHTTP(cfg HTTPConfig) (*HTTPDriver, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: url %q: %w", ErrConfig, cfg.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%w: url %q: want http://host:port/path", ErrConfig, cfg.URL)
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
	if cfg.Classify == nil {
		cfg.Classify = ClassifyStatus
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[bool]string{true: "443", false: "80"}[u.Scheme == "https"])
	}
	d := &HTTPDriver{cfg: cfg}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout}
	d.client = &fasthttp.HostClient{
		Addr:                          addr,
		IsTLS:                         u.Scheme == "https",
		MaxConns:                      cfg.Connections,
		MaxIdleConnDuration:           time.Minute,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		// A benchmark must see a failed call, not a silent retry: fasthttp
		// would otherwise repeat an idempotent request on a reset connection.
		MaxIdemponentCallAttempts: 1,
		Dial: func(addr string) (net.Conn, error) {
			c, err := dialer.Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			return d.wire.wrap(c), nil
		},
	}
	return d, nil
}

// Open returns a worker's connection: its own request and response, sharing
// the driver's pool.
func (d *HTTPDriver) Open(ctx context.Context, worker int) (Conn, error) {
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
	return c, nil
}

// Prepare runs the token source's own preparation (OAuth discovery, the
// first token), if it has one.
func (d *HTTPDriver) Prepare(ctx context.Context) error {
	if p, ok := d.cfg.Token.(Preparer); ok {
		return p.Prepare(ctx)
	}
	return nil
}

// SetupPhases reports the token source's preparation steps, if it times
// them, in a map of the caller's own.
func (d *HTTPDriver) SetupPhases() map[string]time.Duration {
	if p, ok := d.cfg.Token.(PhaseReporter); ok {
		return maps.Clone(p.SetupPhases())
	}
	return nil
}

// Bytes returns the bytes read and written on the driver's connections.
func (d *HTTPDriver) Bytes() (read, written int64) { return d.wire.bytes() }

// Close closes every connection the driver dialed, which also ends calls
// still blocked on one.
func (d *HTTPDriver) Close() error {
	d.client.CloseIdleConnections()
	d.wire.closeAll()
	return nil
}

type httpConn struct {
	d    *HTTPDriver
	req  *fasthttp.Request
	resp *fasthttp.Response
	tok  string // the token in req's Authorization header
}

func (c *httpConn) Call(deadline time.Time) Outcome {
	if c.d.cfg.Token != nil {
		if o, ok := c.authorize(); !ok {
			return o
		}
	}
	if err := c.d.client.DoDeadline(c.req, c.resp, deadline); err != nil {
		return ClassifyError(err)
	}
	return c.d.cfg.Classify(c.resp)
}

// authorize puts the current token on the request. A token source only
// does I/O when it has no token at hand (bounded by its client's timeout),
// so no per-call context is made.
func (c *httpConn) authorize() (Outcome, bool) {
	tok, err := c.d.cfg.Token.Token(context.Background())
	if err != nil {
		return Outcome{Class: ClassToken}, false
	}
	if tok != c.tok {
		c.req.Header.Set("Authorization", "Bearer "+tok)
		c.tok = tok
	}
	return Outcome{}, true
}

// Close does nothing: the pool is the driver's, and a call still blocked
// returns by its deadline or when the driver closes its connections.
func (c *httpConn) Close() error { return nil }

// ClassifyStatus is HTTPConfig's default Classify: 2xx is OK, 429 is
// ClassRateLimited, anything else ClassHTTP.
func ClassifyStatus(resp *fasthttp.Response) Outcome {
	switch s := resp.StatusCode(); {
	case s >= 200 && s < 300:
		return Outcome{Class: OK, Code: s}
	case s == fasthttp.StatusTooManyRequests:
		return Outcome{Class: ClassRateLimited, Code: s}
	default:
		return Outcome{Class: ClassHTTP, Code: s}
	}
}

// ClassifyError classifies a failed exchange: a passed deadline is
// ClassTimeout, anything else ClassTransport.
func ClassifyError(err error) Outcome {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Outcome{Class: ClassTimeout}
	default:
		return Outcome{Class: ClassTransport}
	}
}

// wireCounter counts the bytes that cross the connections it wraps and can
// close them all.
type wireCounter struct {
	read, written atomic.Int64
	mu            sync.Mutex
	conns         map[*countedConn]struct{}
}

func (w *wireCounter) wrap(c net.Conn) net.Conn {
	cc := &countedConn{Conn: c, w: w}
	w.mu.Lock()
	if w.conns == nil {
		w.conns = map[*countedConn]struct{}{}
	}
	w.conns[cc] = struct{}{}
	w.mu.Unlock()
	return cc
}

func (w *wireCounter) bytes() (int64, int64) { return w.read.Load(), w.written.Load() }

func (w *wireCounter) closeAll() {
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
	w *wireCounter
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
