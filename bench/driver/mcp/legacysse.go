package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/valyala/fasthttp"
)

// legacySSE speaks the HTTP+SSE transport of MCP 2024-11-05: each Conn
// opens its own GET event stream, whose first event ("endpoint") names
// the URL to POST messages to; the server answers a POST with 202 and
// sends the response on the stream.
type legacySSE struct {
	cfg   Config
	base  *url.URL
	addr  string
	tls   bool
	wires driver.Counters
}

var (
	_ bench.Driver      = (*legacySSE)(nil)
	_ bench.ByteCounter = (*legacySSE)(nil)
)

func newLegacySSE(cfg Config) (*legacySSE, error) {
	addr, tls, err := driver.Target(cfg.URL)
	if err != nil {
		return nil, err
	}
	// No 2026-07-28: that revision defines only stdio and Streamable HTTP.
	if err := checkProtocol(&cfg, MCP20241105, MCP20241105, MCP20251125, "2025-06-18", "2025-03-26", "auto"); err != nil {
		return nil, err
	}
	base, _ := url.Parse(cfg.URL)
	return &legacySSE{cfg: cfg, base: base, addr: addr, tls: tls}, nil
}

// legacyLink is one Conn's pair of channels: the GET event stream the
// replies come on, and the fasthttp client that POSTs the messages to the
// endpoint the stream names.
type legacyLink struct {
	d      *legacySSE
	wire   *driver.Counter
	closed atomic.Bool
	stream *http.Transport
	post   *fasthttp.HostClient
	cancel context.CancelFunc
	body   io.ReadCloser

	mu     sync.Mutex // guards preq, presp, target
	preq   *fasthttp.Request
	presp  *fasthttp.Response
	target string // where POSTs go; empty till the endpoint event
}

func (d *legacySSE) newLink() *legacyLink {
	l := &legacyLink{d: d, wire: d.wires.Add(), preq: new(fasthttp.Request), presp: new(fasthttp.Response)}
	dialer := &net.Dialer{Timeout: d.cfg.Timeout}
	l.stream = &http.Transport{
		MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute, TLSClientConfig: d.cfg.TLS,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if l.closed.Load() {
				return nil, net.ErrClosed
			}
			return driver.Dial(ctx, dialer, addr, l.wire)
		},
	}
	l.post = driver.NewClient(driver.ClientConfig{Addr: d.addr, TLS: d.tls, TLSConfig: d.cfg.TLS, MaxConns: 2, DialTimeout: d.cfg.Timeout, Counter: l.wire, Closed: &l.closed})
	l.preq.Header.SetMethod(fasthttp.MethodPost)
	l.preq.Header.SetContentType("application/json")
	l.preq.Header.Set("User-Agent", "mcpbench")
	for _, h := range d.cfg.Header {
		l.preq.Header.Set(h.Name, h.Value)
	}
	return l
}

// teardown closes both channels; a call blocked on either returns.
func (l *legacyLink) teardown() error {
	l.closed.Store(true)
	if l.cancel != nil {
		l.cancel()
	}
	if l.body != nil {
		l.body.Close()
	}
	l.wire.CloseAll()
	l.stream.CloseIdleConnections()
	l.post.CloseIdleConnections()
	return nil
}

// open GETs the event stream; streamCtx ends it.
func (l *legacyLink) open(ctx, streamCtx context.Context) (*http.Response, error) {
	d := l.d
	req, _ := http.NewRequestWithContext(streamCtx, http.MethodGet, d.cfg.URL, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", "mcpbench")
	for _, h := range d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if d.cfg.Auth != nil {
		if err := d.cfg.Auth.Authorize(ctx, driver.Std(req)); err != nil {
			return nil, fmt.Errorf("authorize: %w", err)
		}
	}
	resp, err := (&http.Client{Transport: l.stream}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", d.cfg.URL, err)
	}
	l.body = resp.Body
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", d.cfg.URL, resp.StatusCode, msg)
	}
	return resp, nil
}

// send POSTs one message to the endpoint. Until the stream has named the
// endpoint (an answer to a server request, say) it fails.
func (l *legacyLink) send(msg []byte, deadline time.Time) bench.Outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.target == "" {
		return bench.Outcome{Class: bench.ClassTransport}
	}
	if a := l.d.cfg.Auth; a != nil && a.Authorize(context.Background(), driver.Fast(l.preq)) != nil {
		return bench.Outcome{Class: bench.ClassToken}
	}
	l.preq.SetBodyRaw(msg)
	if err := l.post.DoDeadline(l.preq, l.presp, deadline); err != nil {
		if l.closed.Load() {
			return bench.Outcome{Class: bench.ClassTransport}
		}
		return driver.ClassifyError(err)
	}
	return driver.ClassifyStatus(l.presp)
}

// read feeds the event stream to c until it ends: the endpoint event's
// data goes to endpoint (once), message events to c.
func (l *legacyLink) read(body io.Reader, c *msgConn, endpoint chan<- string) {
	p := SSEParser{OnEvent: func(e SSEEvent) {
		switch e.Event {
		case "endpoint":
			select {
			case endpoint <- string(e.Data):
			default:
			}
		case "message":
			c.receive(e.Data)
		}
	}}
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		p.Feed(buf[:n])
		if err != nil {
			c.end(fmt.Errorf("event stream: %w", err))
			return
		}
	}
}

// aim points the POSTs at the endpoint the stream named, which must be on
// the stream's own scheme and host.
func (l *legacyLink) aim(e string) error {
	base := l.d.base
	u, err := base.Parse(e)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
		return fmt.Errorf("endpoint event %q: want a URL on %s://%s", e, base.Scheme, base.Host)
	}
	l.mu.Lock()
	l.target = u.String()
	l.preq.SetRequestURI(l.target)
	l.mu.Unlock()
	return nil
}

// Open opens an event stream, reads its endpoint, and initializes.
func (d *legacySSE) Open(ctx context.Context, worker int) (bench.Conn, error) {
	l := d.newLink()
	streamCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	c := newMsgConn(d.cfg.Timeout)
	c.teardown, c.send = l.teardown, l.send
	fail := func(err error) (bench.Conn, error) {
		c.Close()
		return nil, err
	}

	// Setup is bounded by ctx and the timeout: either cancels the stream.
	deadline := driver.SetupDeadline(ctx, d.cfg.Timeout)
	timer := time.AfterFunc(time.Until(deadline), cancel)
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	resp, err := l.open(ctx, streamCtx)
	if err != nil {
		return fail(err)
	}
	endpoint := make(chan string, 1)
	go l.read(resp.Body, c, endpoint)
	select {
	case e := <-endpoint:
		if err := l.aim(e); err != nil {
			return fail(err)
		}
	case <-c.closed:
		if !time.Now().Before(deadline) {
			return fail(errors.New("no endpoint event on the stream before the setup deadline"))
		}
		return fail(fmt.Errorf("the event stream ended before its endpoint event: %v", c.cause()))
	}
	modern, err := c.handshake(ctx, d.cfg.Protocol)
	if err != nil {
		return fail(err)
	}
	if !timer.Stop() {
		return fail(fmt.Errorf("setup took longer than %v", d.cfg.Timeout))
	}
	c.call = newCallBody(&d.cfg, modern)
	return c, nil
}

// Bytes counts what crossed the driver's connections: streams and POSTs.
func (d *legacySSE) Bytes() (read, written int64) { return d.wires.Bytes() }

// Close closes every connection, ending calls still blocked.
func (d *legacySSE) Close() error {
	d.wires.CloseAll()
	return nil
}
