// Package rest is the REST upstream behind the gateway baselines: the
// shared workload of servers/tools as plain JSON over HTTP.
//
//	POST /tools/echo     {"message":"hi"}  →  200 {"result":"hi"}
//	POST /tools/compute  {"rounds":-1}     →  400 {"error":"compute: \"rounds\" is -1; want 0 to 1000000"}
//
// An unknown tool is 404, another method 405, a body that is not JSON 415
// (by Content-Type) or 400, a body over the limit 413.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/servers/internal/serving"
	"github.com/mcpbench/mcpbench/servers/tools"
	"github.com/valyala/fasthttp"
)

// Options configures the upstream; the zero value is the default.
type Options struct {
	// MaxBody is the largest request body in bytes; 0 means 1 MiB.
	MaxBody int
}

const prefix = "/tools/"

// Handler serves POST /tools/{name}.
func Handler() fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		name, ok := strings.CutPrefix(path, prefix)
		if !ok || name == "" || strings.Contains(name, "/") {
			writeError(ctx, fasthttp.StatusNotFound, "no such resource: "+path+" (POST /tools/{name})")
			return
		}
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "POST")
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "use POST")
			return
		}
		if ct := string(ctx.Request.Header.ContentType()); ct != "" && !strings.HasPrefix(ct, "application/json") {
			writeError(ctx, fasthttp.StatusUnsupportedMediaType, "the body must be application/json")
			return
		}
		text, err := tools.Call(ctx, name, ctx.PostBody())
		var ae *tools.ArgError
		switch {
		case err == nil:
			writeResult(ctx, text)
		case errors.As(err, &ae):
			writeError(ctx, fasthttp.StatusBadRequest, err.Error())
		case errors.Is(err, tools.ErrUnknownTool):
			writeError(ctx, fasthttp.StatusNotFound, err.Error())
		default:
			writeError(ctx, fasthttp.StatusServiceUnavailable, err.Error())
		}
	}
}

func writeResult(ctx *fasthttp.RequestCtx, text string) {
	b, _ := json.Marshal(struct {
		Result string `json:"result"`
	}{text})
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

func writeError(ctx *fasthttp.RequestCtx, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// Serve serves the upstream on ln until ctx is done.
func Serve(ctx context.Context, ln net.Listener, opts Options) error {
	maxBody := opts.MaxBody
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	s := &fasthttp.Server{
		Handler:            Handler(),
		Name:               "mcpbench-rest",
		MaxRequestBodySize: maxBody,
		ReadTimeout:        time.Minute,
		IdleTimeout:        time.Minute,
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large")
				return
			}
			writeError(ctx, fasthttp.StatusBadRequest, "unreadable request")
		},
		Logger: quiet{},
	}
	return serving.Until(ctx, func() error { return s.Serve(ln) }, s.Shutdown)
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
