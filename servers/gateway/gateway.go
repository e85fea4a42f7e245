// Package gateway holds the API-gateway baselines in front of the REST
// upstream (servers/rest): a Go gateway on fasthttp (this file) and HAProxy
// 2.6 configured and run as a child (haproxy.go). Both authenticate (API
// key or JWT), rate-limit every request, and proxy over keep-alive
// connections, so that what a gateway adds per call can be read beside
// what token validation adds to an MCP call.
//
//	g, _ := gateway.New(gateway.Options{Upstream: "http://127.0.0.1:9001", Auth: "apikey", APIKeys: []string{"k1"}})
//	fasthttp.Serve(ln, g.Handler)
package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/internal/serving"
	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// Options configures a Go gateway. Zero values mean the documented defaults.
type Options struct {
	// Upstream is the REST upstream's base URL, http://host:port.
	Upstream string
	// Auth is "none" (a plain proxy), "apikey" or "jwt".
	Auth string
	// APIKeys are the accepted keys (apikey), sent in X-API-Key. Only
	// their SHA-256 is kept.
	APIKeys []string
	// Verifier checks bearer tokens (jwt): the same verifiers as the MCP
	// servers'.
	Verifier auth.Verifier
	// Resource is the gateway's own URL, for RFC 9728 metadata (jwt).
	Resource string
	// Issuer is the authorization server the metadata names (jwt).
	Issuer string
	// Scope is the scope every call needs (jwt); "" means tools:call.
	Scope string
	// RateLimit is requests per second per API key, token subject or
	// client address; the limiter is always evaluated. 0 means 1e6.
	RateLimit float64
	// Burst is the token bucket's size; 0 means RateLimit (at least 1).
	Burst int
	// MaxConns bounds the upstream keep-alive pool; 0 means 512.
	MaxConns int
	// MaxBody is the largest request body; 0 means 1 MiB.
	MaxBody int
}

// Gateway is a reverse proxy with authentication and a rate limit.
type Gateway struct {
	opts     Options
	upstream *fasthttp.HostClient
	keys     [][32]byte
	limits   sync.Map // key → *rate.Limiter
	handler  fasthttp.RequestHandler
}

// New checks opts and makes a gateway.
func New(opts Options) (*Gateway, error) {
	u, err := url.Parse(opts.Upstream)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("gateway: upstream %q must be http://host:port", opts.Upstream)
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 1e6
	}
	if opts.RateLimit < 0 {
		return nil, errors.New("gateway: the rate limit must be positive")
	}
	if opts.Burst <= 0 {
		opts.Burst = max(1, int(math.Min(opts.RateLimit, 1e6)))
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 512
	}
	if opts.Scope == "" {
		opts.Scope = "tools:call"
	}
	g := &Gateway{opts: opts, upstream: &fasthttp.HostClient{
		Addr: u.Host, MaxConns: opts.MaxConns, MaxIdleConnDuration: time.Minute,
		NoDefaultUserAgentHeader: true, DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute,
	}}
	switch opts.Auth {
	case "", "none":
		g.handler = g.limited(func(ctx *fasthttp.RequestCtx) string { return ctx.RemoteIP().String() })
	case "apikey":
		if len(opts.APIKeys) == 0 {
			return nil, errors.New("gateway: apikey auth needs at least one key")
		}
		for _, k := range opts.APIKeys {
			if k == "" {
				return nil, errors.New("gateway: an empty API key")
			}
			g.keys = append(g.keys, sha256.Sum256([]byte(k)))
		}
		g.handler = g.apiKey
	case "jwt":
		if opts.Verifier == nil {
			return nil, errors.New("gateway: jwt auth needs a Verifier")
		}
		need := []string{opts.Scope}
		meta := auth.MetadataURL(opts.Resource)
		inner := g.limited(func(ctx *fasthttp.RequestCtx) string { return "sub:" + auth.FastInfo(ctx).Subject })
		g.handler = auth.FastMiddleware(opts.Verifier, auth.FastOptions{
			ResourceMetadataURL: meta, Scopes: need,
			Required: func(*fasthttp.RequestCtx) []string { return need },
		}, inner)
	default:
		return nil, fmt.Errorf("gateway: auth %q: none, apikey or jwt", opts.Auth)
	}
	return g, nil
}

// Handler serves one request: RFC 9728 metadata (jwt), or auth, rate
// limit and proxy.
func (g *Gateway) Handler(ctx *fasthttp.RequestCtx) {
	if g.opts.Auth == "jwt" && string(ctx.Path()) == auth.MetadataPath(g.opts.Resource) {
		auth.FastMetadataHandler(auth.ResourceMetadata{Resource: g.opts.Resource, AuthorizationServers: []string{g.opts.Issuer},
			ScopesSupported: []string{g.opts.Scope}})(ctx)
		return
	}
	g.handler(ctx)
}

// apiKey checks X-API-Key against the stored hashes, in constant time
// whichever key matches, then rate-limits per key.
func (g *Gateway) apiKey(ctx *fasthttp.RequestCtx) {
	key := ctx.Request.Header.Peek("X-API-Key")
	if len(key) == 0 {
		writeError(ctx, fasthttp.StatusUnauthorized, "missing_api_key", "send the API key in X-API-Key")
		return
	}
	h := sha256.Sum256(key)
	found := -1
	for i := range g.keys {
		if subtle.ConstantTimeCompare(h[:], g.keys[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		writeError(ctx, fasthttp.StatusUnauthorized, "invalid_api_key", "unknown API key")
		return
	}
	g.limited(func(*fasthttp.RequestCtx) string { return "key:" + strconv.Itoa(found) })(ctx)
}

// limited rate-limits per the key that keyOf gives, then proxies.
func (g *Gateway) limited(keyOf func(*fasthttp.RequestCtx) string) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		k := keyOf(ctx)
		l, ok := g.limits.Load(k)
		if !ok {
			l, _ = g.limits.LoadOrStore(k, rate.NewLimiter(rate.Limit(g.opts.RateLimit), g.opts.Burst))
		}
		r := l.(*rate.Limiter).Reserve()
		if d := r.Delay(); d > 0 {
			r.Cancel()
			ctx.Response.Header.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			writeError(ctx, fasthttp.StatusTooManyRequests, "rate_limited", "too many requests")
			return
		}
		g.proxy(ctx)
	}
}

// hopByHop are the headers a proxy must not pass on (RFC 9110 7.6.1),
// plus the credentials, which never leave the gateway.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"TE", "Trailer", "Transfer-Encoding", "Upgrade"}

func stripHopByHop(h interface {
	Peek(string) []byte
	Del(string)
}) {
	for _, name := range strings.Split(string(h.Peek("Connection")), ",") {
		if name = strings.TrimSpace(name); name != "" {
			h.Del(name)
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// proxy forwards the request upstream over the keep-alive pool.
func (g *Gateway) proxy(ctx *fasthttp.RequestCtx) {
	req := &ctx.Request
	stripHopByHop(&req.Header)
	req.Header.Del("Authorization")
	req.Header.Del("X-API-Key")
	req.Header.Set("X-Forwarded-For", ctx.RemoteIP().String())
	req.SetHost(g.upstream.Addr)
	if g.upstream.IsTLS != ctx.IsTLS() { // the client's scheme is not the upstream's
		scheme := "http"
		if g.upstream.IsTLS {
			scheme = "https"
		}
		req.URI().SetScheme(scheme)
	}
	resp := &ctx.Response
	if err := g.upstream.DoTimeout(req, resp, 30*time.Second); err != nil {
		resp.Reset()
		writeError(ctx, fasthttp.StatusBadGateway, "upstream_unavailable", err.Error())
		return
	}
	stripHopByHop(&resp.Header)
}

func writeError(ctx *fasthttp.RequestCtx, status int, code, desc string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, desc})
	ctx.SetBody(b)
}

// Serve runs g on ln until ctx is done.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	maxBody := g.opts.MaxBody
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	s := &fasthttp.Server{
		Handler: g.Handler, Name: "mcpbench-gateway", MaxRequestBodySize: maxBody,
		ReadBufferSize: 16 << 10, ReadTimeout: time.Minute, IdleTimeout: time.Minute,
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "too_large", "request body too large")
				return
			}
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_request", "unreadable request")
		},
		Logger: quiet{},
	}
	return serving.Until(ctx, func() error { return s.Serve(ln) }, func() error {
		err := s.Shutdown()
		g.upstream.CloseIdleConnections()
		return err
	})
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
