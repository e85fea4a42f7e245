package driver

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"
)

// Doer is what the HTTP drivers call through: fasthttp's HostClient for
// HTTP/1.1, an H2Conn for HTTP/2.
type Doer interface {
	DoDeadline(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error
	DoTimeout(req *fasthttp.Request, resp *fasthttp.Response, timeout time.Duration) error
	CloseIdleConnections()
}

var (
	_ Doer = (*fasthttp.HostClient)(nil)
	_ Doer = (*H2Conn)(nil)
)

// H2 is an HTTP/2 client: h2 over TLS (ALPN) for https, h2c with prior
// knowledge for http, on golang.org/x/net/http2's client connections,
// each on a TCP connection of its own dialing. It keeps Conns of them and
// hands its callers out to them in turn, so that a connection's streams
// are its callers. It does not pool: a caller past the server's stream
// limit waits for a stream on its own connection (net/http's pool would
// open another, or, held strictly, stall: golang/go#70809), so the
// connection count is what was asked for, run after run; a connection is
// made again only when it has closed. Requests and replies are converted
// from and to fasthttp's types, which the drivers share with HTTP/1.1 (a
// few allocations a call that HTTP/1.1 does not make; the generator's CPU
// per call shows them).
type H2 struct {
	cfg   ClientConfig
	t2    *http2.Transport
	links []*h2Link
	next  atomic.Int64
	dials atomic.Int64
	mu    sync.Mutex
	open  int // callers handed out and not closed
	peak  int // the most open at once
}

// NewH2 returns an HTTP/2 client of conns connections (at least 1) to
// cfg.Addr, counting bytes on cfg.Counter and, for https, recording
// handshakes on cfg.TLSStats. It dials when first called.
func NewH2(cfg ClientConfig, conns int) *H2 {
	if cfg.TLS {
		t := cfg.TLSConfig.Clone()
		if t == nil {
			t = &tls.Config{}
		}
		t.NextProtos = []string{"h2"}
		cfg.TLSConfig = t
	}
	h := &H2{cfg: cfg, t2: &http2.Transport{StrictMaxConcurrentStreams: true, DisableCompression: true, AllowHTTP: true}}
	for range max(conns, 1) {
		h.links = append(h.links, &h2Link{h: h})
	}
	return h
}

// h2Link is one connection of an H2.
type h2Link struct {
	h  *H2
	mu sync.Mutex
	cc *http2.ClientConn
}

// conn returns the link's client connection, dialing one when there is
// none or the last has closed.
func (l *h2Link) conn(ctx context.Context) (*http2.ClientConn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cc != nil {
		if st := l.cc.State(); !st.Closed && !st.Closing {
			return l.cc, nil
		}
		l.cc.Close()
		l.cc = nil
	}
	c, err := l.h.dial(ctx)
	if err != nil {
		return nil, err
	}
	cc, err := l.h.t2.NewClientConn(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	// A ping's answer comes after the server's SETTINGS, so that no
	// stream is opened past its limit before the limit is known (it would
	// be refused).
	if err := cc.Ping(ctx); err != nil {
		cc.Close()
		return nil, fmt.Errorf("HTTP/2 connection: %w", err)
	}
	l.cc = cc
	return cc, nil
}

func (h *H2) dial(ctx context.Context) (net.Conn, error) {
	if h.cfg.Closed != nil && h.cfg.Closed.Load() {
		return nil, net.ErrClosed
	}
	h.dials.Add(1)
	c, err := h.cfg.Dial(ctx)                                                         // its TLS configuration offers h2 alone (NewH2)
	if err != nil && strings.HasSuffix(err.Error(), "tls: no application protocol") { // the server's alert, unexported
		return nil, fmt.Errorf("%w: the server does not speak HTTP/2 (it refused ALPN h2): %v", bench.ErrConfig, err)
	}
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*tls.Conn); ok {
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			tc.Close()
			return nil, fmt.Errorf("%w: the server did not agree to HTTP/2 (ALPN %q): it speaks HTTP/1.1 only", bench.ErrConfig, p)
		}
	}
	return c, nil
}

// Conn hands out a caller, on the next connection in turn.
func (h *H2) Conn() *H2Conn {
	i := int(h.next.Add(1)-1) % len(h.links)
	ctx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	h.open++
	h.peak = max(h.peak, h.open)
	h.mu.Unlock()
	return &H2Conn{h: h, l: h.links[i], ctx: ctx, cancel: cancel}
}

// Connections is how many TCP connections were asked for.
func (h *H2) Connections() int { return len(h.links) }

// Callers is the most callers that were open at once (handed out by
// Conn and not yet closed with CloseIdleConnections).
func (h *H2) Callers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak
}

// Dials is how many TCP connections the client has dialed.
func (h *H2) Dials() int64 { return h.dials.Load() }

// MaxStreams is the smallest stream limit a server's connection has
// announced (SETTINGS_MAX_CONCURRENT_STREAMS); 0 before any.
func (h *H2) MaxStreams() uint32 {
	var least uint32
	for _, l := range h.links {
		l.mu.Lock()
		if l.cc != nil {
			if n := l.cc.State().MaxConcurrentStreams; least == 0 || n < least {
				least = n
			}
		}
		l.mu.Unlock()
	}
	return least
}

// Close closes every connection.
func (h *H2) Close() {
	for _, l := range h.links {
		l.mu.Lock()
		if l.cc != nil {
			l.cc.Close()
		}
		l.mu.Unlock()
	}
}

// H2Conn is one caller of an H2 client: its calls are streams on one of
// the client's connections.
type H2Conn struct {
	h      *H2
	l      *h2Link
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
}

// DoDeadline makes req a stream and reads its whole reply into resp.
func (c *H2Conn) DoDeadline(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(c.ctx, deadline)
	defer cancel()
	scheme := "http://"
	if c.h.cfg.TLS {
		scheme = "https://"
	}
	body := req.Body()
	hreq, err := http.NewRequestWithContext(ctx, string(req.Header.Method()), scheme+c.h.cfg.Addr+string(req.URI().RequestURI()), bytes.NewReader(body))
	if err != nil {
		return err
	}
	hreq.ContentLength = int64(len(body))
	for k, v := range req.Header.All() {
		switch string(k) {
		case "Host", "Content-Length", "Connection", "Transfer-Encoding", "host", "content-length", "connection", "transfer-encoding":
			continue
		}
		hreq.Header[string(k)] = append(hreq.Header[string(k)], string(v))
	}
	cc, err := c.l.conn(ctx)
	if err != nil {
		return err
	}
	hresp, err := cc.RoundTrip(hreq)
	if err != nil {
		return err
	}
	defer hresp.Body.Close()
	resp.Reset()
	resp.SetStatusCode(hresp.StatusCode)
	for k, vs := range hresp.Header {
		for _, v := range vs {
			resp.Header.Add(k, v)
		}
	}
	w := resp.BodyWriter()
	if _, err := io.Copy(w, hresp.Body); err != nil {
		return err
	}
	return nil
}

// DoTimeout is DoDeadline with a deadline timeout from now.
func (c *H2Conn) DoTimeout(req *fasthttp.Request, resp *fasthttp.Response, timeout time.Duration) error {
	return c.DoDeadline(req, resp, time.Now().Add(timeout))
}

// CloseIdleConnections ends this caller's calls in flight (its context),
// as closing an HTTP/1.1 caller's own connection does; the connection,
// shared with other callers, stays.
func (c *H2Conn) CloseIdleConnections() {
	c.cancel()
	if c.closed.CompareAndSwap(false, true) {
		c.h.mu.Lock()
		c.h.open--
		c.h.mu.Unlock()
	}
}
