// Package fast is a lean MCP server on fasthttp: the same tools as the
// official go-sdk server (package servers/tools), with as little work per
// call as the protocol allows, so that the harness can show what MCP itself
// costs when the implementation is not in the way.
//
// It speaks Streamable HTTP, stateless, protocol 2026-07-28 (server/discover,
// tools/list, tools/call; per-request _meta; MCP-Protocol-Version, Mcp-Method
// and Mcp-Name checked against the body; results with resultType), and on
// the same endpoint answers clients of 2025-11-25, 2025-06-18 and 2025-03-26
// that open with initialize (no session is issued; ping works for them, and
// 2025-03-26 may batch). Replies are JSON or a one-event SSE stream.
// Options.Fixtures adds what the official MCP conformance suite's server
// scenarios call for (test tools, resources, prompts, completion, logging,
// input-required results): for conformance runs, never for benchmarks.
//
//	srv, err := fast.New(fast.Options{Reply: "json"})
//	// serve it yourself, on any path:
//	fasthttp.Serve(ln, srv.Handler)
//	// or let the package route /mcp and shut down gracefully when ctx ends:
//	err = fast.Serve(ctx, ln, fast.Options{Reply: "sse"})
//
// Authentication is a wrapper around Handler, e.g.
// auth.FastMiddleware(verifier, opts, srv.Handler): Handler keeps no state
// between requests, so anything that decides before it may wrap it.
package fast

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpbench/mcpbench/servers/auth"
)

// Options configures a Server. The zero value is valid: JSON replies, a
// 1 MiB body limit, loopback origins only.
type Options struct {
	Reply          string   // "json" (default) or "sse": how a request is answered
	MaxBody        int      // largest request body in bytes; 0 = 1 MiB; larger gets 413
	AllowedOrigins []string // nil = loopback origins only; see New for the syntax

	// Verifier, when set, makes Serve an OAuth resource server: every
	// request to /mcp needs a valid bearer token (tools/call also the
	// tools:call scope), refused by auth's challenge table otherwise, and
	// RFC 9728 metadata is served at auth.MetadataPath(Resource).
	Verifier auth.Verifier
	// Resource is this endpoint's URL (http://ADDR/mcp): the audience the
	// Verifier checks, named in the metadata. Serve fills it from the
	// listener when empty.
	Resource string
	// Spin, when positive, makes every tools/call burn this much CPU (a
	// busy loop on the monotonic clock, not a sleep) before it answers: a
	// known cost a benchmark can check its own resolution against.
	Spin time.Duration
	// Issuer is the authorization server the metadata names.
	Issuer string
	// Fixtures makes the server serve the fixtures of the official MCP
	// conformance suite's server scenarios at 2026-07-28: its test tools,
	// resources, prompts, completions and per-request logging, declared in
	// server/discover (see fixtures.go). For conformance runs only, never
	// for benchmarks: the fixtures are built for coverage, not speed. The
	// benchmark tools answer exactly as without it; clients that open with
	// initialize (2025-*) see the server without fixtures. A fixture that
	// sends notifications (progress, log messages) answers as an SSE stream
	// whatever Reply says: a JSON body holds one message.
	Fixtures bool
}

// DefaultMaxBody is the body limit when Options.MaxBody is 0.
const DefaultMaxBody = 1 << 20

// ServerName and ServerVersion identify the server in initialize results and
// in the io.modelcontextprotocol/serverInfo _meta of 2026-07-28 results.
const (
	ServerName    = "mcpbench-fast"
	ServerVersion = "1"
)

// Server answers MCP requests. It is immutable once made, so one Server may
// serve any number of connections concurrently.
type Server struct {
	sse     bool
	maxBody int
	spin    time.Duration
	origins originPolicy

	// Results that never change, encoded once.
	discover    []byte // server/discover, 2026-07-28
	toolsModern []byte // tools/list, 2026-07-28
	toolsLegacy []byte // tools/list, 2025-*
	modernTail  []byte // ,"resultType":"complete","_meta":{serverInfo}}

	fix *fixtures // nil unless Options.Fixtures
}

// New checks opts and returns a Server.
//
// AllowedOrigins entries are "*" (any origin), or an origin such as
// "https://app.example.com" (any port) or "http://localhost:6274" (that port
// only); scheme and host compare case-insensitively. A request with an
// Origin header not allowed gets 403; a request without one is served.
func New(opts Options) (*Server, error) {
	s := &Server{maxBody: opts.MaxBody, spin: opts.Spin}
	if opts.Spin < 0 {
		return nil, fmt.Errorf("fast: Spin is %v; want 0 (none) or more", opts.Spin)
	}
	switch opts.Reply {
	case "", "json":
	case "sse":
		s.sse = true
	default:
		return nil, fmt.Errorf("fast: Reply is \"json\" or \"sse\", not %q", opts.Reply)
	}
	if s.maxBody < 0 {
		return nil, fmt.Errorf("fast: MaxBody is %d; want 0 (default %d) or more", opts.MaxBody, DefaultMaxBody)
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBody
	}
	var err error
	if s.origins, err = newOriginPolicy(opts.AllowedOrigins); err != nil {
		return nil, err
	}
	if err := s.encodeFixed(); err != nil {
		return nil, err
	}
	if opts.Fixtures {
		if s.fix, err = newFixtures(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Handler serves one MCP request on ctx. It does not look at the path: route
// to it yourself, or use Serve. It keeps no state between requests and is
// safe for concurrent use; an auth middleware wraps it unchanged.
//
// Checks run in this order, each answered with its HTTP status and a
// JSON-RPC error without id: Origin (403), method POST (405, Allow: POST),
// body size (413), Content-Type application/json and no Content-Encoding
// (415), Accept listing application/json and text/event-stream (406).
// Then the body is served: see the package tests for the full table.
func (s *Server) Handler(ctx *fasthttp.RequestCtx) {
	if origin := ctx.Request.Header.Peek("Origin"); origin != nil && !s.origins.allows(origin) {
		httpError(ctx, fasthttp.StatusForbidden, "origin not allowed")
		return
	}
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		httpError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed: the MCP endpoint takes POST only")
		return
	}
	body := ctx.PostBody()
	if len(body) > s.maxBody {
		httpError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	if !isJSONContentType(ctx.Request.Header.ContentType()) {
		httpError(ctx, fasthttp.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	if ce := ctx.Request.Header.Peek("Content-Encoding"); len(ce) > 0 && !bytes.EqualFold(ce, []byte("identity")) {
		httpError(ctx, fasthttp.StatusUnsupportedMediaType, "Content-Encoding is not supported")
		return
	}
	if !acceptsJSONAndSSE(ctx.Request.Header.PeekAll("Accept")) {
		httpError(ctx, fasthttp.StatusNotAcceptable, "Accept must list application/json and text/event-stream")
		return
	}

	out := ctx.Response.SwapBody(nil)[:0]
	r := reply{sse: s.sse}
	out = s.serve(ctx, body, out, &r)
	if r.status == fasthttp.StatusAccepted {
		ctx.SetStatusCode(fasthttp.StatusAccepted)
		ctx.Response.Header.SetNoDefaultContentType(true)
		ctx.Response.SwapBody(out[:0])
		return
	}
	ctx.SetStatusCode(r.status)
	if r.sse {
		ctx.Response.Header.SetContentTypeBytes(ctEventStream)
		ctx.Response.Header.SetCanonical(hdrCacheControl, valNoCache)
		ctx.Response.Header.SetCanonical(hdrAccelBuffering, valNo)
	} else {
		ctx.Response.Header.SetContentTypeBytes(ctJSON)
	}
	ctx.Response.SwapBody(out)
}

var (
	ctJSON            = []byte("application/json")
	ctEventStream     = []byte("text/event-stream")
	hdrCacheControl   = []byte("Cache-Control")
	valNoCache        = []byte("no-cache")
	hdrAccelBuffering = []byte("X-Accel-Buffering")
	valNo             = []byte("no")
)

// httpError answers a request refused before its body was read as JSON-RPC:
// the status, and a JSON-RPC error with no id (code -32600) saying why.
func httpError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	out := ctx.Response.SwapBody(nil)[:0]
	out = appendError(out, nil, codeInvalidRequest, msg)
	ctx.Response.SwapBody(out)
}

// Serve serves MCP on ln at the path /mcp (other paths get 404) until ctx is
// done, then shuts down gracefully: the listener closes, requests in flight
// are answered (a sleep tool call is cut short and answered with an internal
// error), idle connections close, all within ShutdownGrace. It returns nil
// after a clean shutdown. Bodies over Options.MaxBody are refused by the
// HTTP layer with 413 before they reach Handler.
func Serve(ctx context.Context, ln net.Listener, opts Options) error {
	s, err := New(opts)
	if err != nil {
		return err
	}
	if opts.Verifier == nil {
		return serve(ctx, ln, s.maxBody, route(s.Handler))
	}
	if opts.Resource == "" {
		opts.Resource = "http://" + ln.Addr().String() + "/mcp"
	}
	protected := auth.FastMiddleware(opts.Verifier, auth.FastOptions{
		ResourceMetadataURL: auth.MetadataURL(opts.Resource),
		Scopes:              auth.DefaultScopes,
		Required:            auth.FastMCPRequired,
	}, s.Handler)
	metaPath := auth.MetadataPath(opts.Resource)
	meta := auth.FastMetadataHandler(auth.ResourceMetadata{Resource: opts.Resource, AuthorizationServers: []string{opts.Issuer},
		ScopesSupported: auth.DefaultScopes, ResourceName: ServerName})
	mcp := route(protected)
	return serve(ctx, ln, s.maxBody, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == metaPath {
			meta(ctx)
			return
		}
		mcp(ctx)
	})
}

// ShutdownGrace bounds how long Serve waits for requests in flight once its
// context is done.
const ShutdownGrace = 10 * time.Second

// route sends /mcp to mcp and answers 404 elsewhere. An auth layer wraps mcp
// before it is routed here (and adds its metadata path beside it).
func route(mcp fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/mcp" {
			mcp(ctx)
			return
		}
		httpError(ctx, fasthttp.StatusNotFound, "not found: the MCP endpoint is /mcp")
	}
}

// serve runs h on ln until ctx is done.
func serve(ctx context.Context, ln net.Listener, maxBody int, h fasthttp.RequestHandler) error {
	srv := &fasthttp.Server{
		Handler:               h,
		MaxRequestBodySize:    maxBody,
		ReadBufferSize:        16 << 10, // room for a bearer token up to auth.MaxTokenBytes
		ReadTimeout:           time.Minute,
		IdleTimeout:           time.Minute,
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				httpError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large")
				return
			}
			httpError(ctx, fasthttp.StatusBadRequest, "unreadable HTTP request")
		},
		Logger: quiet{},
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	for {
		err := srv.ShutdownWithContext(sctx)
		select {
		case <-errc: // Serve returns nil once shut down
			if err != nil && !isClosedListener(err) {
				return fmt.Errorf("fast: shutdown: %w", err)
			}
			return nil
		case <-time.After(20 * time.Millisecond):
			// Serve had not started when ShutdownWithContext looked: again.
			if sctx.Err() != nil {
				return fmt.Errorf("fast: shutdown: %w", sctx.Err())
			}
		}
	}
}

func isClosedListener(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "use of closed")
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
