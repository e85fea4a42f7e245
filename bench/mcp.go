package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// MCP protocol versions the drivers speak.
const (
	MCP20260728 = "2026-07-28" // stateless: no initialize, _meta on every request
	MCP20251125 = "2025-11-25" // initialize, then a session
)

// MCPConfig describes the MCP call a driver repeats: one tools/call.
type MCPConfig struct {
	// URL is the Streamable HTTP endpoint (http://host:port/mcp), or the
	// legacy SSE endpoint with Transport "sse".
	URL string
	// Command is a stdio server's command line (Transport "stdio").
	Command []string
	// Transport is "http" (Streamable HTTP, default), "sse" (legacy
	// HTTP+SSE, 2024-11-05) or "stdio".
	Transport string
	// Protocol is "2026-07-28" (stateless, default over http),
	// "2025-11-25" (initialize and a session per connection), or "auto":
	// server/discover at 2026-07-28, else initialize with what the server offers.
	Protocol string
	// Tool and Arguments are the call; default echo {"message":"hello"}.
	Tool      string
	Arguments json.RawMessage
	// Header goes on every HTTP request; Token adds a bearer token.
	Header []Header
	Token  TokenSource
	// Connections: keep-alive connections (http) or server processes
	// (stdio); give it the run's Connections.
	Connections int
}

// NewMCP checks cfg and returns the driver for its transport.
func NewMCP(cfg MCPConfig) (Driver, error) {
	if cfg.Tool == "" {
		cfg.Tool = "echo"
	}
	if cfg.Arguments == nil {
		cfg.Arguments = json.RawMessage(`{"message":"hello"}`)
	}
	if !json.Valid(cfg.Arguments) || bytes.TrimSpace(cfg.Arguments)[0] != '{' {
		return nil, fmt.Errorf("%w: MCP arguments must be a JSON object", ErrConfig)
	}
	if cfg.Connections <= 0 {
		cfg.Connections = 16
	}
	switch cfg.Transport {
	case "", "http":
		return newStreamable(cfg)
	case "stdio":
		return newStdio(cfg)
	case "sse":
		return newLegacySSE(cfg)
	}
	return nil, fmt.Errorf("%w: MCP transport %q: http, sse or stdio", ErrConfig, cfg.Transport)
}

// rpcReply is what a driver reads of a JSON-RPC response.
type rpcReply struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"` // set on requests and notifications from the server
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Result json.RawMessage `json:"result"`
}

// ToolErrorCode is the Outcome code of a tools/call whose result has
// isError true: a JSON-RPC success carrying a tool's failure.
const ToolErrorCode = -1

// outcomeOf classifies a decoded JSON-RPC response to a tools/call.
func outcomeOf(r *rpcReply) Outcome {
	if r.Error != nil {
		return Outcome{Class: ErrProtocol, Code: r.Error.Code}
	}
	if r.Result == nil {
		return Outcome{Class: ErrTransport}
	}
	if bytes.Contains(r.Result, []byte(`"isError":true`)) {
		var res struct {
			IsError bool `json:"isError"`
		}
		if json.Unmarshal(r.Result, &res) == nil && res.IsError {
			return Outcome{Class: ErrProtocol, Code: ToolErrorCode}
		}
	}
	return Outcome{Class: OK}
}

// callBody writes a tools/call request with id.
func callBody(dst []byte, id int64, tool string, args json.RawMessage, modern bool) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, `,"method":"tools/call","params":{`...)
	if modern {
		dst = append(dst, modernMeta...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"name":`...)
	dst = strconv.AppendQuote(dst, tool) // tool names are ASCII identifiers
	dst = append(dst, `,"arguments":`...)
	dst = append(dst, args...)
	return append(dst, "}}"...)
}

// modernMeta is the _meta a 2026-07-28 request carries.
const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"mcpbench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

func initializeBody(version string) []byte {
	return []byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version +
		`","capabilities":{},"clientInfo":{"name":"mcpbench","version":"1"}}}`)
}

var initializedNote = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

// streamable is the Streamable HTTP driver, stateless or with sessions.
type streamable struct {
	cfg      MCPConfig
	client   *fasthttp.HostClient
	wire     wireCounter
	version  string // negotiated at Prepare
	stateful bool
	nextID   atomic.Int64
}

var (
	_ Driver        = (*streamable)(nil)
	_ Preparer      = (*streamable)(nil)
	_ ByteCounter   = (*streamable)(nil)
	_ PhaseReporter = (*streamable)(nil)
)

func newStreamable(cfg MCPConfig) (*streamable, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%w: MCP URL %q: want http://host:port/mcp", ErrConfig, cfg.URL)
	}
	switch cfg.Protocol {
	case "":
		cfg.Protocol = MCP20260728
	case MCP20260728, MCP20251125, "auto", "2025-06-18", "2025-03-26":
	default:
		return nil, fmt.Errorf("%w: MCP protocol %q: 2026-07-28, 2025-11-25 or auto", ErrConfig, cfg.Protocol)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[bool]string{true: "443", false: "80"}[u.Scheme == "https"])
	}
	d := &streamable{cfg: cfg}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	d.client = &fasthttp.HostClient{
		Addr: addr, IsTLS: u.Scheme == "https", MaxConns: cfg.Connections, MaxIdleConnDuration: time.Minute,
		NoDefaultUserAgentHeader: true, DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true,
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

// Prepare prepares the token source, then settles the protocol: for
// 2026-07-28 a server/discover; for auto, discover or else initialize.
func (d *streamable) Prepare(ctx context.Context) error {
	if p, ok := d.cfg.Token.(Preparer); ok {
		if err := p.Prepare(ctx); err != nil {
			return err
		}
	}
	switch d.cfg.Protocol {
	case MCP20260728:
		d.version = MCP20260728
		return d.discover(ctx)
	case "auto":
		if err := d.discover(ctx); err == nil {
			// Some servers answer discover yet serve calls only in sessions
			// (the go-sdk's stateful handler says -32022): probe one call.
			d.version = MCP20260728
			if c, err := d.Open(ctx, 0); err == nil {
				deadline, ok := ctx.Deadline()
				if !ok {
					deadline = time.Now().Add(10 * time.Second)
				}
				o := c.Call(deadline)
				c.Close()
				if o.Class == OK || o.Class == ErrProtocol && o.Code != -32022 && o.Code != -32600 {
					return nil
				}
			}
			d.version = ""
		}
		d.stateful = true
		c, err := d.open(ctx, MCP20251125)
		if err != nil {
			return fmt.Errorf("neither server/discover (2026-07-28) nor initialize worked: %w", err)
		}
		d.version = c.version
		c.Close()
		return nil
	default:
		d.stateful, d.version = true, d.cfg.Protocol
		return nil
	}
}

// SetupPhases reports the token source's steps.
func (d *streamable) SetupPhases() map[string]time.Duration {
	if p, ok := d.cfg.Token.(PhaseReporter); ok {
		return p.SetupPhases()
	}
	return nil
}

func (d *streamable) discover(ctx context.Context) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err := d.setup(ctx, req, "server/discover", ""); err != nil {
		return err
	}
	req.SetBodyString(`{"jsonrpc":"2.0","id":0,"method":"server/discover","params":{` + modernMeta + `}}`)
	r, err := d.exchange(ctx, req, resp)
	if err != nil {
		return err
	}
	if r.Error != nil {
		return fmt.Errorf("server/discover: JSON-RPC error %d %s", r.Error.Code, r.Error.Message)
	}
	return nil
}

// setup fills the headers every POST carries.
func (d *streamable) setup(ctx context.Context, req *fasthttp.Request, method, name string) error {
	req.SetRequestURI(d.cfg.URL)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("User-Agent", "mcpbench")
	if d.version == MCP20260728 || (d.version == "" && !d.stateful) {
		req.Header.Set("MCP-Protocol-Version", MCP20260728)
		req.Header.Set("Mcp-Method", method)
		if name != "" {
			req.Header.Set("Mcp-Name", name)
		}
	}
	for _, h := range d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if d.cfg.Token != nil {
		tok, err := d.cfg.Token.Token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// exchange does one setup request and decodes its reply.
func (d *streamable) exchange(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response) (*rpcReply, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	if err := d.client.DoDeadline(req, resp, deadline); err != nil {
		return nil, err
	}
	if s := resp.StatusCode(); s != 200 {
		return nil, fmt.Errorf("HTTP %d: %.200s", s, resp.Body())
	}
	var r rpcReply
	if err := decodeReply(resp, 0, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

var errNoReply = errors.New("no JSON-RPC response in the reply")

// decodeReply reads the JSON-RPC response from a JSON body or from the SSE
// stream of one request (skipping the server's own requests and
// notifications).
func decodeReply(resp *fasthttp.Response, _ int64, r *rpcReply) error {
	body := resp.Body()
	if !bytes.HasPrefix(resp.Header.ContentType(), []byte("text/event-stream")) {
		return json.Unmarshal(body, r)
	}
	found := false
	var err error
	p := SSEParser{OnEvent: func(e SSEEvent) {
		if found || e.Event != "message" {
			return
		}
		var m rpcReply
		if err = json.Unmarshal(e.Data, &m); err == nil && m.Method == "" {
			*r, found = m, true
		}
	}}
	p.Feed(body)
	p.Feed([]byte("\n\n")) // a stream that ends without its blank line still ends its event
	if !found {
		if err != nil {
			return err
		}
		return errNoReply
	}
	return nil
}

// Open makes a worker's connection; with sessions it initializes one.
func (d *streamable) Open(ctx context.Context, worker int) (Conn, error) {
	if d.stateful {
		return d.open(ctx, d.version)
	}
	c := &streamConn{d: d, req: new(fasthttp.Request), resp: new(fasthttp.Response)}
	if err := d.setup(ctx, c.req, "tools/call", d.cfg.Tool); err != nil {
		return nil, err
	}
	return c, nil
}

func (d *streamable) open(ctx context.Context, version string) (*streamConn, error) {
	c := &streamConn{d: d, req: new(fasthttp.Request), resp: new(fasthttp.Response), version: version}
	if err := c.initialize(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Bytes returns the bytes moved on the driver's connections.
func (d *streamable) Bytes() (read, written int64) { return d.wire.bytes() }

// Close closes every connection, ending calls still blocked.
func (d *streamable) Close() error {
	d.client.CloseIdleConnections()
	d.wire.closeAll()
	return nil
}

// streamConn is one worker's Streamable HTTP caller.
type streamConn struct {
	d       *streamable
	req     *fasthttp.Request
	resp    *fasthttp.Response
	body    []byte
	id      int64
	session string
	version string // with sessions: the negotiated version
	tok     string
}

// initialize starts a session: initialize, then notifications/initialized.
func (c *streamConn) initialize(ctx context.Context) error {
	d := c.d
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	saved := d.version
	if err := d.setupSession(ctx, req, ""); err != nil {
		return err
	}
	req.SetBody(initializeBody(c.version))
	r, err := d.exchange(ctx, req, resp)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if r.Error != nil {
		return fmt.Errorf("initialize: JSON-RPC error %d %s", r.Error.Code, r.Error.Message)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil || res.ProtocolVersion == "" {
		return fmt.Errorf("initialize: no protocolVersion in %.200s", r.Result)
	}
	c.version = res.ProtocolVersion
	c.session = string(resp.Header.Peek("Mcp-Session-Id"))
	_ = saved
	req.Reset()
	resp.Reset()
	if err := d.setupSession(ctx, req, c.session); err != nil {
		return err
	}
	req.Header.Set("MCP-Protocol-Version", c.version)
	req.SetBody(initializedNote)
	deadline, _ := ctx.Deadline()
	if deadline.IsZero() {
		deadline = time.Now().Add(10 * time.Second)
	}
	if err := d.client.DoDeadline(req, resp, deadline); err != nil {
		return fmt.Errorf("notifications/initialized: %w", err)
	}
	if s := resp.StatusCode(); s != 202 && s != 200 {
		return fmt.Errorf("notifications/initialized: HTTP %d", s)
	}
	// The calls' request, made once.
	c.req.Reset()
	if err := d.setupSession(ctx, c.req, c.session); err != nil {
		return err
	}
	c.req.Header.Set("MCP-Protocol-Version", c.version)
	return nil
}

// setupSession fills the headers of a request in a session (no
// 2026-07-28 headers).
func (d *streamable) setupSession(ctx context.Context, req *fasthttp.Request, session string) error {
	req.SetRequestURI(d.cfg.URL)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("User-Agent", "mcpbench")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	for _, h := range d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if d.cfg.Token != nil {
		tok, err := d.cfg.Token.Token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// Call makes one tools/call.
func (c *streamConn) Call(deadline time.Time) Outcome {
	d := c.d
	if d.cfg.Token != nil {
		tok, err := d.cfg.Token.Token(context.Background())
		if err != nil {
			return Outcome{Class: ErrToken}
		}
		if tok != c.tok {
			c.req.Header.Set("Authorization", "Bearer "+tok)
			c.tok = tok
		}
	}
	c.id++
	c.body = callBody(c.body[:0], c.id, d.cfg.Tool, d.cfg.Arguments, !d.stateful)
	c.req.SetBodyRaw(c.body)
	o := c.do(deadline)
	if o.Class == ErrHTTP && o.Code == 404 && d.stateful {
		// The session is gone: initialize a new one and try once more.
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := c.initialize(ctx)
		cancel()
		if err != nil {
			return Outcome{Class: ErrHTTP, Code: 404}
		}
		c.req.SetBodyRaw(c.body)
		o = c.do(deadline)
	}
	return o
}

func (c *streamConn) do(deadline time.Time) Outcome {
	if err := c.d.client.DoDeadline(c.req, c.resp, deadline); err != nil {
		return ClassifyError(err)
	}
	if o := ClassifyStatus(c.resp); o.Class != OK {
		if o.Class == ErrHTTP && c.resp.StatusCode() >= 400 && c.resp.StatusCode() < 500 && c.resp.StatusCode() != 404 {
			// A 2026-07-28 server answers JSON-RPC errors with 4xx and a body.
			var r rpcReply
			if decodeReply(c.resp, c.id, &r) == nil && r.Error != nil {
				return Outcome{Class: ErrProtocol, Code: r.Error.Code}
			}
		}
		return o
	}
	var r rpcReply
	if err := decodeReply(c.resp, c.id, &r); err != nil {
		return Outcome{Class: ErrTransport}
	}
	return outcomeOf(&r)
}

// Close ends the session (DELETE), if there is one.
func (c *streamConn) Close() error {
	if c.session == "" {
		return nil
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.d.cfg.URL)
	req.Header.SetMethod("DELETE")
	req.Header.Set("Mcp-Session-Id", c.session)
	req.Header.Set("MCP-Protocol-Version", c.version)
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	c.session = ""
	return c.d.client.DoTimeout(req, resp, 2*time.Second)
}
