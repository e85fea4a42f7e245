package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/internal/serving"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Timeouts of the HTTP server. There is no write timeout: event streams stay
// open as long as their sessions.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownGrace     = 5 * time.Second // for in-flight requests to finish
)

// ServeHTTP serves Handler(opts) at /mcp on ln until ctx is done, then shuts
// down gracefully: it stops accepting, ends the long-lived GET event streams
// (legacy SSE sessions, stateful standalone streams), lets in-flight requests
// finish for up to 5 s and closes what is left. It returns nil after a
// shutdown, an error wrapping ErrBadOptions for bad opts, or the error that
// stopped serving. ln is closed in every case.
//
// Request bodies above opts.MaxBody get 413; other paths than /mcp get 404.
func ServeHTTP(ctx context.Context, ln net.Listener, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		ln.Close()
		return err
	}
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()

	mux := http.NewServeMux()
	h := handler(o)
	if o.Verifier != nil {
		if o.Resource == "" {
			o.Resource = "http://" + ln.Addr().String() + "/mcp"
		}
		h = auth.Middleware(o.Verifier, auth.Options{
			ResourceMetadataURL: auth.MetadataURL(o.Resource),
			Scopes:              auth.DefaultScopes,
			Required:            auth.MCPRequired,
		})(h)
		mux.Handle(auth.MetadataPath(o.Resource), auth.MetadataHandler(auth.ResourceMetadata{
			Resource: o.Resource, AuthorizationServers: []string{o.Issuer}, ScopesSupported: auth.DefaultScopes, ResourceName: Implementation.Name}))
	}
	mux.Handle("/mcp", h)
	fresh := &freshConns{conns: map[net.Conn]bool{}}
	srv := serving.HTTP2(&http.Server{
		Handler:           http.MaxBytesHandler(endOnShutdown(mux, streams), o.MaxBody),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ConnState:         fresh.track,
	})
	srv.RegisterOnShutdown(endStreams)
	srv.RegisterOnShutdown(fresh.closeAll)

	return serving.Until(ctx, func() error { return srv.Serve(ln) }, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
			return fmt.Errorf("sdk: shutdown: %w", err)
		}
		return nil
	})
}

// freshConns are the connections that have sent no request yet. Shutdown
// waits for them until they are 5 s old, as long as this server's whole
// grace, though they hold nothing: a client's transport often dials one
// ahead and leaves it unused (seen: TestServeHTTPStops failed about once in
// 50 runs, the one open connection waiting in readRequest). On shutdown
// they are closed at once (a request still arriving on one is dropped,
// as one arriving after the listener closed would be).
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]bool
	done  bool
}

func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case state == http.StateNew && f.done:
		c.Close()
	case state == http.StateNew:
		f.conns[c] = true
	default:
		delete(f.conns, c)
	}
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	for c := range f.conns {
		c.Close()
	}
	clear(f.conns)
}

// endOnShutdown ends GET requests (the event streams that would otherwise
// hang until their clients leave) when streams is done. POSTs keep their
// own context, so in-flight calls finish during a graceful shutdown.
func endOnShutdown(next http.Handler, streams context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			stop := context.AfterFunc(streams, cancel)
			defer stop()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// ServeStdio serves one MCP session over newline-delimited JSON, reading in
// and writing out (the SDK's IOTransport), until in ends or ctx is done; both
// return nil. Like the SDK's StdioTransport with os.Stdin and os.Stdout, it
// closes in when done if in is an io.Closer, and never closes out.
//
// stdio carries no authorization: a stdio server takes its credentials from
// its environment.
func ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	rc, ok := in.(io.ReadCloser)
	if !ok {
		rc = io.NopCloser(in)
	}
	err := NewServer().Run(ctx, &mcp.IOTransport{Reader: rc, Writer: nopWriteCloser{out}})
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrConnectionClosed) {
		return nil
	}
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
