package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// streamable is the Streamable HTTP driver: stateless at 2026-07-28, or
// with one session per Conn at 2025-11-25 and earlier.
//
// Every Conn owns one keep-alive connection (its own fasthttp client with
// MaxConns 1), so that Conn.Close can cut the call in flight; the driver
// keeps a small client of its own for server/discover and DELETE.
type streamable struct {
	cfg   MCPConfig
	addr  string
	tls   bool
	ctl   *fasthttp.HostClient // setup requests: discover, DELETE
	wires wireSet

	// Settled by Prepare (or NewMCP, for a fixed protocol).
	version  string // what calls speak; with sessions, what initialize offers
	stateful bool
	call     callBody
	phases   map[string]time.Duration
}

var (
	_ Driver        = (*streamable)(nil)
	_ Preparer      = (*streamable)(nil)
	_ ByteCounter   = (*streamable)(nil)
	_ PhaseReporter = (*streamable)(nil)
)

func newStreamable(cfg MCPConfig) (*streamable, error) {
	addr, tls, err := hostAddr(cfg.URL)
	if err != nil {
		return nil, err
	}
	if err := checkProtocol(&cfg, MCP20260728, MCP20260728, MCP20251125, "2025-06-18", "2025-03-26", "auto"); err != nil {
		return nil, err
	}
	d := &streamable{cfg: cfg, addr: addr, tls: tls}
	d.ctl = newConnClient(addr, tls, cfg.Timeout, d.wires.add(), nil, 4, nil)
	if cfg.Protocol != "auto" {
		d.settle(cfg.Protocol)
	}
	return d, nil
}

// hostAddr checks an http(s) URL and returns its host:port.
func hostAddr(raw string) (addr string, tls bool, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", false, fmt.Errorf("%w: MCP URL %q: want http://host:port/path", ErrConfig, raw)
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

// newConnClient returns a fasthttp client for addr whose connections are
// counted on w. Once closed is set it dials nothing; its first dial takes
// the connection in pre, if any.
func newConnClient(addr string, tls bool, timeout time.Duration, w *wireCounter, closed *atomic.Bool, maxConns int, pre *preDial) *fasthttp.HostClient {
	dialer := &net.Dialer{Timeout: timeout}
	return &fasthttp.HostClient{
		Addr: addr, IsTLS: tls, MaxConns: maxConns, MaxIdleConnDuration: time.Minute,
		NoDefaultUserAgentHeader: true, DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true,
		Dial: func(addr string) (net.Conn, error) {
			if closed != nil && closed.Load() {
				return nil, net.ErrClosed
			}
			if c := pre.take(); c != nil {
				return c, nil
			}
			return dialCounted(context.Background(), dialer, addr, w)
		},
	}
}

func dialCounted(ctx context.Context, dialer *net.Dialer, addr string, w *wireCounter) (net.Conn, error) {
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return w.wrap(c), nil
}

// preDial holds a connection dialed in Open, so that a stateless Conn's
// first call pays no dial.
type preDial struct {
	mu sync.Mutex
	c  net.Conn
}

func (p *preDial) take() net.Conn {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.c
	p.c = nil
	return c
}

// wireSet keeps one wireCounter per Conn, so that each Conn can cut its
// own connections, and sums them all for the driver's Bytes.
type wireSet struct {
	mu  sync.Mutex
	all []*wireCounter
}

func (s *wireSet) add() *wireCounter {
	w := new(wireCounter)
	s.mu.Lock()
	s.all = append(s.all, w)
	s.mu.Unlock()
	return w
}

func (s *wireSet) bytes() (read, written int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.all {
		r, wr := w.bytes()
		read, written = read+r, written+wr
	}
	return read, written
}

func (s *wireSet) closeAll() {
	s.mu.Lock()
	all := slices.Clone(s.all)
	s.mu.Unlock()
	for _, w := range all {
		w.closeAll()
	}
}

// settle fixes the protocol the calls speak.
func (d *streamable) settle(version string) {
	d.version, d.stateful = version, version != MCP20260728
	d.call = newCallBody(&d.cfg, !d.stateful)
}

// setupDeadline is ctx's deadline, or the configured timeout from now.
func setupDeadline(ctx context.Context, timeout time.Duration) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(timeout)
}

// Prepare prepares the token source, then settles the protocol: at
// 2026-07-28 one server/discover; with "auto", server/discover decides
// between 2026-07-28 and the newest session protocol the server lists
// (2025-11-25 when it answers no discover).
func (d *streamable) Prepare(ctx context.Context) error {
	d.phases = map[string]time.Duration{}
	if p, ok := d.cfg.Token.(Preparer); ok {
		if err := p.Prepare(ctx); err != nil {
			return err
		}
		if pr, ok := d.cfg.Token.(PhaseReporter); ok {
			for k, v := range pr.SetupPhases() {
				d.phases[k] = v
			}
		}
	}
	if d.cfg.Protocol != MCP20260728 && d.cfg.Protocol != "auto" {
		return nil
	}
	t := time.Now()
	versions, err := d.discover(ctx)
	d.phases["discover"] = time.Since(t)
	if d.cfg.Protocol == MCP20260728 {
		if err == nil && len(versions) > 0 && !slices.Contains(versions, MCP20260728) {
			return fmt.Errorf("server/discover: the server does not serve %s (it lists %v): ask for one of those, or auto", MCP20260728, versions)
		}
		return err
	}
	d.settle(MCP20251125) // the server counter-offers in its initialize result
	if err == nil {
		for _, v := range []string{MCP20260728, MCP20251125, "2025-06-18", "2025-03-26"} {
			if slices.Contains(versions, v) {
				d.settle(v)
				break
			}
		}
	}
	return nil
}

// SetupPhases reports server/discover and the token source's steps of
// the last Prepare, in a map of the caller's own.
func (d *streamable) SetupPhases() map[string]time.Duration { return maps.Clone(d.phases) }

// discover sends server/discover and returns the versions the server lists.
func (d *streamable) discover(ctx context.Context) ([]string, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err := d.header(ctx, req, "", MCP20260728); err != nil {
		return nil, err
	}
	req.Header.Set("Mcp-Method", "server/discover")
	req.SetBody(discoverBody(1))
	result, err := d.exchange(d.ctl, req, resp, 1, setupDeadline(ctx, d.cfg.Timeout))
	if err != nil {
		return nil, fmt.Errorf("server/discover: %w", err)
	}
	var res struct {
		SupportedVersions []string `json:"supportedVersions"`
	}
	if err := json.Unmarshal(result, &res); err != nil {
		return nil, fmt.Errorf("server/discover: result %.200s: %w", result, err)
	}
	return res.SupportedVersions, nil
}

// header fills what every POST carries: content negotiation, the
// configured headers, the token, and (for version 2026-07-28 and after)
// MCP-Protocol-Version, or the session's version and id.
func (d *streamable) header(ctx context.Context, req *fasthttp.Request, session, version string) error {
	req.SetRequestURI(d.cfg.URL)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("User-Agent", "mcpbench")
	if version != "" {
		req.Header.Set("MCP-Protocol-Version", version)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	for _, h := range d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if d.cfg.Token != nil {
		tok, err := d.cfg.Token.Token(ctx)
		if err != nil {
			return fmt.Errorf("token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

var errNoReply = errors.New("no JSON-RPC response to the request in the reply")

// exchange does one setup request and returns a copy of its result.
func (d *streamable) exchange(cl *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, id int64, deadline time.Time) (json.RawMessage, error) {
	if err := cl.DoDeadline(req, resp, deadline); err != nil {
		return nil, err
	}
	msg, ok := findResponse(resp, id)
	var m rpcMsg
	switch {
	case ok && scanMsg(msg, &m) && m.error != nil:
		return nil, fmt.Errorf("HTTP %d, %s", resp.StatusCode(), errorMessage(m.error))
	case resp.StatusCode() != fasthttp.StatusOK:
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode(), resp.Body())
	case !ok || m.result == nil:
		return nil, fmt.Errorf("%w: %.200s", errNoReply, resp.Body())
	}
	return bytes.Clone(m.result), nil
}

// findResponse returns the JSON-RPC message of a setup reply that answers
// id: the JSON body, or the data of the first event in an SSE body that is
// a response to id, skipping the server's notifications and requests.
func findResponse(resp *fasthttp.Response, id int64) ([]byte, bool) {
	body := resp.Body()
	if !isEventStream(resp) {
		return body, len(body) > 0
	}
	var msg []byte
	p := SSEParser{OnEvent: func(e SSEEvent) {
		var m rpcMsg
		if msg == nil && e.Event == "message" && scanMsg(e.Data, &m) && m.isResponse() && (m.idIs(id) || m.error != nil && string(m.id) == "null") {
			msg = bytes.Clone(e.Data)
		}
	}}
	p.Feed(body)
	return msg, msg != nil
}

// isEventStream says whether resp is a text/event-stream.
func isEventStream(resp *fasthttp.Response) bool {
	ct := resp.Header.ContentType()
	return len(ct) >= 17 && bytes.EqualFold(ct[:17], []byte("text/event-stream"))
}

// Open makes a worker's connection; with sessions it initializes one
// (initialize, then notifications/initialized).
func (d *streamable) Open(ctx context.Context, worker int) (Conn, error) {
	if d.version == "" {
		return nil, fmt.Errorf("%w: MCP protocol auto: call Prepare before Open", ErrConfig)
	}
	c := &streamConn{d: d, req: new(fasthttp.Request), resp: new(fasthttp.Response), wire: d.wires.add()}
	c.cl = newConnClient(d.addr, d.tls, d.cfg.Timeout, c.wire, &c.closed, 1, &c.pre)
	c.sse.OnEvent = c.onEvent
	var err error
	if d.stateful {
		err = c.initialize(ctx)
	} else {
		// Dial now, so that the first call pays no dial: setup is timed apart.
		c.pre.c, err = dialCounted(ctx, &net.Dialer{Timeout: d.cfg.Timeout}, d.addr, c.wire)
		if err == nil {
			err = d.header(ctx, c.req, "", MCP20260728)
		}
		c.req.Header.Set("Mcp-Method", "tools/call")
		c.req.Header.Set("Mcp-Name", d.cfg.Tool)
	}
	if err != nil {
		c.wire.closeAll()
		return nil, err
	}
	c.tok = string(c.req.Header.Peek("Authorization"))
	return c, nil
}

// Bytes returns the bytes moved on all the driver's connections.
func (d *streamable) Bytes() (read, written int64) { return d.wires.bytes() }

// Close closes every connection, which ends calls still blocked.
func (d *streamable) Close() error {
	d.ctl.CloseIdleConnections()
	d.wires.closeAll()
	return nil
}

// streamConn is one worker's Streamable HTTP caller.
type streamConn struct {
	d      *streamable
	cl     *fasthttp.HostClient
	wire   *wireCounter
	req    *fasthttp.Request
	resp   *fasthttp.Response
	body   []byte
	id     int64
	closed atomic.Bool
	pre    preDial

	// Written by the calling goroutine only; mu orders those writes with
	// Close, which may run during a call.
	mu      sync.Mutex
	session string
	version string // with sessions: the negotiated version
	tok     string // the Authorization header on req

	// Reading an SSE reply, without a closure per call.
	sse  SSEParser
	want int64
	got  Outcome
	seen bool
}

// initialize starts a session, and sets up the calls' request for it.
func (c *streamConn) initialize(ctx context.Context) error {
	d := c.d
	deadline := setupDeadline(ctx, d.cfg.Timeout)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err := d.header(ctx, req, "", ""); err != nil {
		return err
	}
	c.id++
	req.SetBody(initializeBody(c.id, d.version))
	result, err := d.exchange(c.cl, req, resp, c.id, deadline)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(result, &res); err != nil || res.ProtocolVersion == "" {
		return fmt.Errorf("initialize: no protocolVersion in %.200s", result)
	}
	c.mu.Lock()
	c.version = res.ProtocolVersion
	c.session = string(resp.Header.Peek("Mcp-Session-Id"))
	c.mu.Unlock()

	req.Reset()
	resp.Reset()
	if err := d.header(ctx, req, c.session, c.version); err != nil {
		return err
	}
	req.SetBody(initializedNote)
	if err := c.cl.DoDeadline(req, resp, deadline); err != nil {
		return fmt.Errorf("notifications/initialized: %w", err)
	}
	if s := resp.StatusCode(); s != fasthttp.StatusAccepted && s != fasthttp.StatusOK {
		return fmt.Errorf("notifications/initialized: HTTP %d: %.200s", s, resp.Body())
	}
	c.req.Reset()
	return d.header(ctx, c.req, c.session, c.version)
}

// Call makes one tools/call. With a session, a 404 (the server forgot the
// session) starts a new one and the call is made once more, all within
// the call's deadline and latency.
func (c *streamConn) Call(deadline time.Time) Outcome {
	if c.closed.Load() {
		return Outcome{Class: ClassTransport}
	}
	if c.d.cfg.Token != nil {
		tok, err := c.d.cfg.Token.Token(context.Background())
		if err != nil {
			return Outcome{Class: ClassToken}
		}
		if len(c.tok) != len("Bearer ")+len(tok) || c.tok[len("Bearer "):] != tok {
			c.mu.Lock()
			c.tok = "Bearer " + tok
			c.mu.Unlock()
			c.req.Header.Set("Authorization", c.tok)
		}
	}
	o := c.do(deadline)
	if o.Class == ClassHTTP && o.Code == fasthttp.StatusNotFound && c.d.stateful && !c.closed.Load() {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := c.initialize(ctx)
		cancel()
		if err != nil {
			return o
		}
		c.mu.Lock()
		c.tok = string(c.req.Header.Peek("Authorization"))
		c.mu.Unlock()
		o = c.do(deadline)
	}
	return o
}

func (c *streamConn) do(deadline time.Time) Outcome {
	c.id++
	c.body = c.d.call.append(c.body[:0], c.id)
	c.req.SetBodyRaw(c.body)
	if err := c.cl.DoDeadline(c.req, c.resp, deadline); err != nil {
		if c.closed.Load() {
			return Outcome{Class: ClassTransport}
		}
		return ClassifyError(err)
	}
	status := c.resp.StatusCode()
	switch {
	case status == fasthttp.StatusTooManyRequests:
		return Outcome{Class: ClassRateLimited, Code: status}
	case status == fasthttp.StatusNotFound && c.d.stateful:
		return Outcome{Class: ClassHTTP, Code: status}
	}
	o, ok := c.read()
	switch {
	case status >= 200 && status < 300:
		if !ok {
			return Outcome{Class: ClassTransport}
		}
		return o
	case ok && o.Class == ClassProtocol:
		// 2026-07-28 carries JSON-RPC errors in 4xx and 5xx replies too.
		return o
	}
	return Outcome{Class: ClassHTTP, Code: status}
}

// read classifies the reply's JSON-RPC response to the call.
func (c *streamConn) read() (Outcome, bool) {
	body := c.resp.Body()
	if isEventStream(c.resp) {
		c.want, c.seen = c.id, false
		c.sse.Reset()
		c.sse.Feed(body)
		return c.got, c.seen
	}
	var m rpcMsg
	if !scanMsg(body, &m) || !m.isResponse() {
		return Outcome{}, false
	}
	if m.error == nil && !m.idIs(c.id) {
		return Outcome{Class: ClassTransport}, true
	}
	return m.outcome(), true
}

func (c *streamConn) onEvent(e SSEEvent) {
	var m rpcMsg
	if c.seen || e.Event != "message" || !scanMsg(e.Data, &m) || !m.isResponse() {
		return
	}
	if m.idIs(c.want) || m.error != nil && string(m.id) == "null" {
		c.got, c.seen = m.outcome(), true
	}
}

// Close cuts the connection (a call in flight returns), then ends the
// session, if there is one, with a DELETE on the driver's own client.
func (c *streamConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.wire.closeAll()
	c.cl.CloseIdleConnections()
	c.mu.Lock()
	session, version, tok := c.session, c.version, c.tok
	c.mu.Unlock()
	if session == "" {
		return nil
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.d.cfg.URL)
	req.Header.SetMethod(fasthttp.MethodDelete)
	req.Header.Set("User-Agent", "mcpbench")
	req.Header.Set("Mcp-Session-Id", session)
	req.Header.Set("MCP-Protocol-Version", version)
	for _, h := range c.d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if tok != "" {
		req.Header.Set("Authorization", tok)
	}
	if err := c.d.ctl.DoTimeout(req, resp, min(c.d.cfg.Timeout, 2*time.Second)); err != nil {
		return fmt.Errorf("DELETE session: %w", err)
	}
	if s := resp.StatusCode(); s >= 300 && s != fasthttp.StatusNotFound && s != fasthttp.StatusMethodNotAllowed {
		return fmt.Errorf("DELETE session: HTTP %d", s)
	}
	return nil
}
