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

// Open opens an event stream, reads its endpoint, and initializes.
func (d *legacySSE) Open(ctx context.Context, worker int) (bench.Conn, error) {
	w := d.wires.Add()
	var closed atomic.Bool
	dialer := &net.Dialer{Timeout: d.cfg.Timeout}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if closed.Load() {
				return nil, net.ErrClosed
			}
			return driver.Dial(ctx, dialer, addr, w)
		},
	}
	streamCtx, cancel := context.WithCancel(context.Background())
	post := driver.NewClient(driver.ClientConfig{Addr: d.addr, TLS: d.tls, MaxConns: 2, DialTimeout: d.cfg.Timeout, Counter: w, Closed: &closed})
	var body io.ReadCloser
	c := newMsgConn(d.cfg.Timeout)
	c.teardown = func() error {
		closed.Store(true)
		cancel()
		if body != nil {
			body.Close()
		}
		w.CloseAll()
		tr.CloseIdleConnections()
		post.CloseIdleConnections()
		return nil
	}
	fail := func(err error) (bench.Conn, error) {
		c.Close()
		return nil, err
	}

	// Setup is bounded by ctx and the timeout: either cancels the stream.
	deadline := driver.SetupDeadline(ctx, d.cfg.Timeout)
	timer := time.AfterFunc(time.Until(deadline), cancel)
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	req, _ := http.NewRequestWithContext(streamCtx, http.MethodGet, d.cfg.URL, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", "mcpbench")
	for _, h := range d.cfg.Header {
		req.Header.Set(h.Name, h.Value)
	}
	if d.cfg.Auth != nil {
		if err := d.cfg.Auth.Authorize(ctx, driver.Std(req)); err != nil {
			return fail(fmt.Errorf("authorize: %w", err))
		}
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
	var mu sync.Mutex // guards preq, presp, target
	var target string
	c.send = func(msg []byte, deadline time.Time) bench.Outcome {
		mu.Lock()
		defer mu.Unlock()
		if target == "" {
			return bench.Outcome{Class: bench.ClassTransport}
		}
		if d.cfg.Auth != nil && d.cfg.Auth.Authorize(context.Background(), driver.Fast(preq)) != nil {
			return bench.Outcome{Class: bench.ClassToken}
		}
		preq.SetBodyRaw(msg)
		if err := post.DoDeadline(preq, presp, deadline); err != nil {
			if closed.Load() {
				return bench.Outcome{Class: bench.ClassTransport}
			}
			return driver.ClassifyError(err)
		}
		return driver.ClassifyStatus(presp)
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
func (d *legacySSE) Bytes() (read, written int64) { return d.wires.Bytes() }

// Close closes every connection, ending calls still blocked.
func (d *legacySSE) Close() error {
	d.wires.CloseAll()
	return nil
}
