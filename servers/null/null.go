// Package null holds the floor servers: the least a server can do over
// HTTP and over raw TCP. mcpbench measures them first, so that every other
// figure can be read against what the machine does at all.
//
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	go null.ServeHTTP(ctx, ln, null.HTTPOptions{}) // 200 "ok\n" to anything
package null

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/mcpbench/mcpbench/servers/internal/serving"
	"github.com/valyala/fasthttp"
)

// HTTPOptions configures ServeHTTP. The zero value answers 200 "ok\n".
type HTTPOptions struct {
	// Echo sends the request body back as the response body.
	Echo bool
	// MaxBody is the largest request body in bytes; 0 means 1 MiB.
	// Larger bodies get 413.
	MaxBody int
}

var okBody = []byte("ok\n")

// Handler returns the fasthttp handler ServeHTTP serves.
func Handler(opts HTTPOptions) fasthttp.RequestHandler {
	if opts.Echo {
		return func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("application/octet-stream")
			ctx.SetBody(ctx.PostBody())
		}
	}
	return func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBody(okBody)
	}
}

// ServeHTTP serves opts's handler on ln until ctx is done, then shuts
// down: open connections finish their request and close.
func ServeHTTP(ctx context.Context, ln net.Listener, opts HTTPOptions) error {
	maxBody := opts.MaxBody
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	s := &fasthttp.Server{
		Handler:            Handler(opts),
		Name:               "mcpbench-null",
		MaxRequestBodySize: maxBody,
		ReadTimeout:        time.Minute,
		IdleTimeout:        time.Minute,
		ErrorHandler:       errorHandler,
		Logger:             quiet{},
	}
	return serving.Until(ctx, func() error { return s.Serve(ln) }, s.Shutdown)
}

// errorHandler answers requests fasthttp could not read: 413 for a body
// over the limit (fasthttp's default says 400), 400 for the rest.
func errorHandler(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		ctx.Error("request body too large\n", fasthttp.StatusRequestEntityTooLarge)
		return
	}
	ctx.Error("bad request\n", fasthttp.StatusBadRequest)
}

// quiet drops fasthttp's log lines: a client's broken request is answered,
// not logged, on a server under load.
type quiet struct{}

func (quiet) Printf(string, ...any) {}

// ServeTCPEcho writes every byte read on a connection back to it, for all
// connections accepted on ln, until ctx is done; then it closes them all.
func ServeTCPEcho(ctx context.Context, ln net.Listener) error {
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	closeAll := func() error {
		err := ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		return err
	}
	accept := func() error {
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return nil
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return err
			}
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetNoDelay(true)
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				echo(c)
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}
	err := serving.Until(ctx, accept, closeAll)
	closeAll()
	wg.Wait()
	return err
}

// echo is a plain read-write loop: io.Copy would splice through a pipe,
// which is not the floor we mean to measure.
func echo(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
