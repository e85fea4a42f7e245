package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/valyala/fasthttp"
)

// streamable is the Streamable HTTP driver: stateless at 2026-07-28, or
// with one session per Conn at 2025-11-25 and earlier.
//
// Every Conn owns one keep-alive connection (its own fasthttp client with
// MaxConns 1), so that Conn.Close can cut the call in flight; the driver
// keeps a small client of its own for server/discover and DELETE.
type streamable struct {
	cfg    Config
	addr   string
	tls    bool
	ctl    driver.Doer // setup requests: discover, DELETE
	h2     *driver.H2  // with HTTP2: every caller's client
	wires  driver.Counters
	tlsLog driver.TLSStats
	nonces bool // cfg.Auth takes DPoP nonces from the replies

	// Sessions started (initialize answered) and lost (a call answered
	// 404: the server, or the replica a balancer sent it to, does not
	// know the session), since the last TakeCounters.
	started, lost atomic.Int64

	// Settled by Prepare (or New, for a fixed protocol).
	version  string // what calls speak; with sessions, what initialize offers
	stateful bool
	call     callBody
	phases   map[string]time.Duration
}

var (
	_ bench.Driver        = (*streamable)(nil)
	_ bench.Preparer      = (*streamable)(nil)
	_ bench.ByteCounter   = (*streamable)(nil)
	_ bench.PhaseReporter = (*streamable)(nil)
	_ bench.TLSReporter   = (*streamable)(nil)
	_ bench.Counter       = (*streamable)(nil)
)

// errSessionLost: the request right after initialize was answered 404: a
// balancer without session affinity sent it to a replica that does not
// know the session.
var errSessionLost = errors.New("the session was not found right after it started (a balancer without session affinity?)")

// TakeCounters reports the sessions started and lost since the last call.
func (d *streamable) TakeCounters() map[string]int64 {
	if !d.stateful {
		return nil
	}
	return map[string]int64{"mcp_sessions_started": d.started.Swap(0), "mcp_sessions_lost": d.lost.Swap(0)}
}

func newStreamable(cfg Config) (*streamable, error) {
	addr, tls, err := driver.Target(cfg.URL)
	if err != nil {
		return nil, err
	}
	if err := checkProtocol(&cfg, MCP20260728, MCP20260728, MCP20251125, "2025-06-18", "2025-03-26", "auto"); err != nil {
		return nil, err
	}
	d := &streamable{cfg: cfg, addr: addr, tls: tls}
	_, d.nonces = cfg.Auth.(driver.NonceTaker)
	switch {
	case cfg.HTTP2 && cfg.NewConnPerCall:
		return nil, fmt.Errorf("%w: HTTP/2 multiplexes calls on its connections: no new connection per call", bench.ErrConfig)
	case cfg.HTTP2:
		d.h2 = driver.NewH2(driver.ClientConfig{Addr: addr, TLS: tls, TLSConfig: cfg.TLS, DialTimeout: cfg.Timeout, Counter: d.wires.Add(), TLSStats: &d.tlsLog}, cfg.H2Conns)
		d.ctl = d.h2.Conn()
	default:
		d.ctl = driver.NewClient(driver.ClientConfig{Addr: addr, TLS: tls, TLSConfig: cfg.TLS, MaxConns: 4, DialTimeout: cfg.Timeout, Counter: d.wires.Add()})
	}
	if cfg.Protocol != "auto" {
		d.settle(cfg.Protocol)
	}
	return d, nil
}

// settle fixes the protocol the calls speak.
func (d *streamable) settle(version string) {
	d.version, d.stateful = version, version != MCP20260728
	d.call = newCallBody(&d.cfg, !d.stateful)
}

// Prepare prepares the authorizer, then settles the protocol: at
// 2026-07-28 one server/discover; with "auto", server/discover decides
// between 2026-07-28 and the newest session protocol the server lists
// (2025-11-25 when it answers no discover).
func (d *streamable) Prepare(ctx context.Context) error {
	d.phases = map[string]time.Duration{}
	phases, err := driver.Prepare(ctx, d.cfg.Auth)
	if err != nil {
		return err
	}
	maps.Copy(d.phases, phases)
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
	result, err := d.exchange(d.ctl, req, resp, 1, driver.SetupDeadline(ctx, d.cfg.Timeout))
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
// configured headers, the credentials, and (for version 2026-07-28 and after)
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
	return d.authorize(ctx, req)
}

// authorize puts the credentials on req, when there is an authorizer.
func (d *streamable) authorize(ctx context.Context, req *fasthttp.Request) error {
	if d.cfg.Auth == nil {
		return nil
	}
	if err := d.cfg.Auth.Authorize(ctx, driver.Fast(req)); err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	return nil
}

var errNoReply = errors.New("no JSON-RPC response to the request in the reply")

// exchange does one setup request and returns a copy of its result.
func (d *streamable) exchange(cl driver.Doer, req *fasthttp.Request, resp *fasthttp.Response, id int64, deadline time.Time) (json.RawMessage, error) {
	if err := cl.DoDeadline(req, resp, deadline); err != nil {
		return nil, err
	}
	if driver.NonceRefused(d.cfg.Auth, resp) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := d.authorize(ctx, req) // the proof again, with the server's nonce
		cancel()
		if err != nil {
			return nil, err
		}
		if err := cl.DoDeadline(req, resp, deadline); err != nil {
			return nil, err
		}
	}
	msg, ok := findResponse(resp, id)
	var m rpcMsg
	switch {
	case ok && scanMsg(msg, &m) && len(m.error) > 0 && m.error[0] == '{': // a JSON-RPC error, not an OAuth one
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
func (d *streamable) Open(ctx context.Context, worker int) (bench.Conn, error) {
	if d.version == "" {
		return nil, fmt.Errorf("%w: MCP protocol auto: call Prepare before Open", bench.ErrConfig)
	}
	c := &streamConn{d: d, req: new(fasthttp.Request), resp: new(fasthttp.Response), wire: d.wires.Add()}
	cc := driver.ClientConfig{Addr: d.addr, TLS: d.tls, TLSConfig: d.cfg.TLS, MaxConns: 1, DialTimeout: d.cfg.Timeout,
		Counter: c.wire, Closed: &c.closed, Pre: &c.pre, TLSStats: &d.tlsLog}
	if d.h2 != nil {
		c.cl = d.h2.Conn() // a stream on a shared connection: no dial of its own
	} else {
		c.cl = driver.NewClient(cc)
	}
	c.reply.init()
	var err error
	if d.stateful {
		// Behind a balancer without affinity the session may be lost at
		// once: start another, a few times.
		for try := 0; try < 8; try++ {
			if err = c.initialize(ctx); !errors.Is(err, errSessionLost) {
				break
			}
		}
	} else {
		// Dial now, so that the first call pays no dial: setup is timed apart.
		if d.h2 == nil {
			var pre net.Conn
			if pre, err = cc.Dial(ctx); err == nil {
				c.pre.Put(pre)
			}
		}
		if err == nil {
			err = d.header(ctx, c.req, "", MCP20260728)
		}
		c.req.Header.Set("Mcp-Method", "tools/call")
		c.req.Header.Set("Mcp-Name", d.cfg.Tool)
	}
	if err != nil {
		c.wire.CloseAll()
		return nil, err
	}
	return c, nil
}

// HTTP2 reports the HTTP/2 connections and the streams on them; nil for
// HTTP/1.1. Streams is the most callers open at once, less the setup
// client's.
func (d *streamable) HTTP2() *bench.HTTP2Info {
	if d.h2 == nil {
		return nil
	}
	return &bench.HTTP2Info{Connections: d.h2.Connections(), Dials: d.h2.Dials(), Streams: d.h2.Callers() - 1, ServerMaxStreams: d.h2.MaxStreams()}
}

// TakeTLS returns the handshakes of the calls' https connections since
// the last TakeTLS (the setup client's are not counted).
func (d *streamable) TakeTLS() *bench.TLSInfo { return d.tlsLog.Take() }

// Bytes returns the bytes moved on all the driver's connections.
func (d *streamable) Bytes() (read, written int64) { return d.wires.Bytes() }

// Close closes every connection, which ends calls still blocked.
func (d *streamable) Close() error {
	d.ctl.CloseIdleConnections()
	if d.h2 != nil {
		d.h2.Close()
	}
	d.wires.CloseAll()
	return nil
}

// streamConn is one worker's Streamable HTTP caller.
type streamConn struct {
	d      *streamable
	cl     driver.Doer
	wire   *driver.Counter
	req    *fasthttp.Request
	resp   *fasthttp.Response
	body   []byte
	id     int64
	closed atomic.Bool
	pre    driver.PreDial

	// Written by the calling goroutine only; mu orders those writes with
	// Close, which may run during a call.
	mu      sync.Mutex
	session string
	version string // with sessions: the negotiated version

	reply replyReader
}

// initialize starts a session, and sets up the calls' request for it.
func (c *streamConn) initialize(ctx context.Context) error {
	d := c.d
	deadline := driver.SetupDeadline(ctx, d.cfg.Timeout)
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
	c.session = string(driver.Peek(&resp.Header, "Mcp-Session-Id"))
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
	if s := resp.StatusCode(); s == fasthttp.StatusNotFound {
		d.lost.Add(1)
		return fmt.Errorf("notifications/initialized: %w", errSessionLost)
	} else if s != fasthttp.StatusAccepted && s != fasthttp.StatusOK {
		return fmt.Errorf("notifications/initialized: HTTP %d: %.200s", s, resp.Body())
	}
	d.started.Add(1)
	c.req.Reset()
	return d.header(ctx, c.req, c.session, c.version)
}

// Call makes one tools/call. With a session, a 404 (the server forgot the
// session) starts a new one and the call is made once more, all within
// the call's deadline and latency.
func (c *streamConn) Call(deadline time.Time) bench.Outcome {
	if c.closed.Load() {
		return bench.Outcome{Class: bench.ClassTransport}
	}
	if c.d.cfg.Auth != nil && c.d.cfg.Auth.Authorize(context.Background(), driver.Fast(c.req)) != nil {
		return bench.Outcome{Class: bench.ClassToken}
	}
	o := c.do(deadline)
	if c.d.nonces && driver.NonceRefused(c.d.cfg.Auth, c.resp) {
		// The server asks for its DPoP nonce: once more, with it.
		if c.d.cfg.Auth.Authorize(context.Background(), driver.Fast(c.req)) != nil {
			return bench.Outcome{Class: bench.ClassToken}
		}
		o = c.do(deadline)
	}
	if o.Class == bench.ClassHTTP && o.Code == fasthttp.StatusNotFound && c.d.stateful && !c.closed.Load() {
		c.d.lost.Add(1)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := c.initialize(ctx)
		cancel()
		if err != nil {
			return o
		}
		o = c.do(deadline)
	}
	return o
}

func (c *streamConn) do(deadline time.Time) bench.Outcome {
	c.id++
	c.body = c.d.call.append(c.body[:0], c.id)
	c.req.SetBodyRaw(c.body)
	if c.d.cfg.NewConnPerCall {
		c.req.SetConnectionClose()
	}
	if err := c.cl.DoDeadline(c.req, c.resp, deadline); err != nil {
		if c.closed.Load() {
			return bench.Outcome{Class: bench.ClassTransport}
		}
		return driver.ClassifyError(err)
	}
	status := c.resp.StatusCode()
	if c.d.stateful {
		c.follow()
	}
	switch {
	case status == fasthttp.StatusTooManyRequests:
		return bench.Outcome{Class: bench.ClassRateLimited, Code: status}
	case status == fasthttp.StatusNotFound && c.d.stateful:
		return bench.Outcome{Class: bench.ClassHTTP, Code: status}
	}
	o, ok := c.read()
	switch {
	case status >= 200 && status < 300:
		if !ok {
			return bench.Outcome{Class: bench.ClassTransport}
		}
		return o
	case ok && o.Class == bench.ClassProtocol:
		// 2026-07-28 carries JSON-RPC errors in 4xx and 5xx replies too.
		return o
	}
	return bench.Outcome{Class: bench.ClassHTTP, Code: status}
}

// follow adopts a session id the server moved the session to: a reply
// that names another id than the one sent. Only the two spellings servers
// use are looked up, so that a call pays two header lookups, not a scan.
func (c *streamConn) follow() {
	sid := c.resp.Header.Peek("Mcp-Session-Id")
	if sid == nil {
		sid = c.resp.Header.Peek("mcp-session-id")
	}
	if sid == nil || string(sid) == c.session {
		return
	}
	c.mu.Lock()
	c.session = string(sid)
	c.mu.Unlock()
	c.req.Header.Set("Mcp-Session-Id", c.session)
}

// read classifies the reply's JSON-RPC response to the call.
func (c *streamConn) read() (bench.Outcome, bool) {
	return c.reply.read(c.resp.Body(), isEventStream(c.resp), c.id)
}

// replyReader finds the JSON-RPC response to a call in a reply's body,
// JSON or an SSE stream, without a closure per call. Call init once it
// is where it stays.
type replyReader struct {
	sse  SSEParser
	want int64
	got  bench.Outcome
	seen bool
}

func (rr *replyReader) init() { rr.sse.OnEvent = rr.onEvent }

// read returns the outcome of the response to id in body, and whether
// there was one.
func (rr *replyReader) read(body []byte, sse bool, id int64) (bench.Outcome, bool) {
	if sse {
		rr.want, rr.seen = id, false
		rr.sse.Reset()
		rr.sse.Feed(body)
		return rr.got, rr.seen
	}
	var m rpcMsg
	if !scanMsg(body, &m) || !m.isResponse() {
		return bench.Outcome{}, false
	}
	if m.error == nil && !m.idIs(id) {
		return bench.Outcome{Class: bench.ClassTransport}, true
	}
	return m.outcome(), true
}

func (rr *replyReader) onEvent(e SSEEvent) {
	var m rpcMsg
	if rr.seen || e.Event != "message" || !scanMsg(e.Data, &m) || !m.isResponse() {
		return
	}
	if m.idIs(rr.want) || m.error != nil && string(m.id) == "null" {
		rr.got, rr.seen = m.outcome(), true
	}
}

// Close cuts the connection (a call in flight returns), then ends the
// session, if there is one, with a DELETE on the driver's own client.
func (c *streamConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.wire.CloseAll()
	c.cl.CloseIdleConnections()
	c.mu.Lock()
	session, version := c.session, c.version
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
	timeout := min(c.d.cfg.Timeout, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.d.authorize(ctx, req); err != nil {
		return fmt.Errorf("DELETE session: %w", err)
	}
	if err := c.d.ctl.DoTimeout(req, resp, timeout); err != nil {
		return fmt.Errorf("DELETE session: %w", err)
	}
	if s := resp.StatusCode(); s >= 300 && s != fasthttp.StatusNotFound && s != fasthttp.StatusMethodNotAllowed {
		return fmt.Errorf("DELETE session: HTTP %d", s)
	}
	return nil
}
