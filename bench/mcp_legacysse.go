package bench

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

	"github.com/valyala/fasthttp"
)

// legacySSE speaks the HTTP+SSE transport of MCP 2024-11-05: each Conn
// opens its own GET event stream, whose first event ("endpoint") names
// the URL to POST messages to; the server answers a POST with 202 and
// sends the response on the stream.
type legacySSE struct {
	cfg   MCPConfig
	base  *url.URL
	addr  string
	tls   bool
	wires wireSet
}

var (
	_ Driver      = (*legacySSE)(nil)
	_ ByteCounter = (*legacySSE)(nil)
)

func newLegacySSE(cfg MCPConfig) (*legacySSE, error) {
	addr, tls, err := hostAddr(cfg.URL)
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

// Open opens an event stream, reads its endpoint, and initializes.
func (d *legacySSE) Open(ctx context.Context, worker int) (Conn, error) {
	w := d.wires.add()
	var closed atomic.Bool
	dialer := &net.Dialer{Timeout: d.cfg.Timeout}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if closed.Load() {
				return nil, net.ErrClosed
			}
			return dialCounted(ctx, dialer, addr, w)
		},
	}
	streamCtx, cancel := context.WithCancel(context.Background())
	post := newConnClient(d.addr, d.tls, d.cfg.Timeout, w, &closed, 2, nil)
	var body io.ReadCloser
	c := newMsgConn(d.cfg.Timeout)
	c.teardown = func() error {
		closed.Store(true)
		cancel()
		if body != nil {
			body.Close()
		}
		w.closeAll()
		tr.CloseIdleConnections()
		post.CloseIdleConnections()
		return nil
	}
	fail := func(err error) (Conn, error) {
		c.Close()
		return nil, err
	}

	// Setup is bounded by ctx and the timeout: either cancels the stream.
	deadline := setupDeadline(ctx, d.cfg.Timeout)
	timer := time.AfterFunc(time.Until(deadline), cancel)
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	req, _ := http.NewRequestWithContext(streamCtx, http.MethodGet, d.cfg.URL, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", "mcpbench")
	for _, h := range d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if d.cfg.Token != nil {
		tok, err := d.cfg.Token.Token(ctx)
		if err != nil {
			return fail(fmt.Errorf("token: %w", err))
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fail(fmt.Errorf("GET %s: %w", d.cfg.URL, err))
	}
	body = resp.Body
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fail(fmt.Errorf("GET %s: HTTP %d: %s", d.cfg.URL, resp.StatusCode, msg))
	}
	// POSTs go to the endpoint once the stream has named it; till then
	// (an answer to a server request, say) they fail.
	preq, presp := new(fasthttp.Request), new(fasthttp.Response)
	preq.Header.SetMethod(fasthttp.MethodPost)
	preq.Header.SetContentType("application/json")
	preq.Header.Set("User-Agent", "mcpbench")
	for _, h := range d.cfg.Header {
		preq.Header.Set(h.Name, h.Value)
	}
	var mu sync.Mutex // guards preq, presp, target, tok
	var target, tok string
	c.send = func(msg []byte, deadline time.Time) Outcome {
		mu.Lock()
		defer mu.Unlock()
		if target == "" {
			return Outcome{Class: ClassTransport}
		}
		if d.cfg.Token != nil {
			t, err := d.cfg.Token.Token(context.Background())
			if err != nil {
				return Outcome{Class: ClassToken}
			}
			if t != tok {
				tok = t
				preq.Header.Set("Authorization", "Bearer "+t)
			}
		}
		preq.SetBodyRaw(msg)
		if err := post.DoDeadline(preq, presp, deadline); err != nil {
			if closed.Load() {
				return Outcome{Class: ClassTransport}
			}
			return ClassifyError(err)
		}
		return ClassifyStatus(presp)
	}

	endpoint := make(chan string, 1)
	go func() {
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
			n, err := resp.Body.Read(buf)
			p.Feed(buf[:n])
			if err != nil {
				c.end(fmt.Errorf("event stream: %w", err))
				return
			}
		}
	}()
	select {
	case e := <-endpoint:
		u, err := d.base.Parse(e)
		if err != nil || u.Scheme != d.base.Scheme || u.Host != d.base.Host {
			return fail(fmt.Errorf("endpoint event %q: want a URL on %s://%s", e, d.base.Scheme, d.base.Host))
		}
		mu.Lock()
		target = u.String()
		preq.SetRequestURI(target)
		mu.Unlock()
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
func (d *legacySSE) Bytes() (read, written int64) { return d.wires.bytes() }

// Close closes every connection, ending calls still blocked.
func (d *legacySSE) Close() error {
	d.wires.closeAll()
	return nil
}
