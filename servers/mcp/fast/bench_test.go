package fast

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// benchCases are the request shapes benchmarked: a 2026-07-28 tools/call
// echo answered as JSON and as SSE, and the same call from a 2025-11-25
// client.
var benchCases = []struct {
	name, reply, version, method, toolName, body string
}{
	{"json", "json", "2026-07-28", "tools/call", "echo", echoCall("1", `"hello"`)},
	{"sse", "sse", "2026-07-28", "tools/call", "echo", echoCall("1", `"hello"`)},
	{"json-2025-11-25", "json", "2025-11-25", "", "", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`},
}

// BenchmarkToolsCallEcho drives Handler in process with one reused
// RequestCtx: the server's own cost per call, without HTTP parsing or I/O.
func BenchmarkToolsCallEcho(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			s, err := New(Options{Reply: bc.reply})
			if err != nil {
				b.Fatal(err)
			}
			ctx := newCtx([]byte(bc.body), bc.version, bc.method, bc.toolName)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				ctx.Response.Reset()
				s.Handler(ctx)
			}
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
		})
	}
}

// BenchmarkToolsCallEchoHTTP sends the calls through fasthttp over an
// in-memory connection: server and client HTTP work included, no syscalls.
func BenchmarkToolsCallEchoHTTP(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			ln := fasthttputil.NewInmemoryListener()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- Serve(ctx, ln, Options{Reply: bc.reply}) }()
			defer func() { cancel(); <-done }()
			c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI("http://mcp.test/mcp")
			req.Header.SetMethod("POST")
			req.Header.SetContentType("application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("MCP-Protocol-Version", bc.version)
			if bc.method != "" {
				req.Header.Set("Mcp-Method", bc.method)
				req.Header.Set("Mcp-Name", bc.toolName)
			}
			req.SetBodyString(bc.body)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.DoTimeout(req, resp, 5*time.Second); err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode() != 200 {
					b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
				}
			}
		})
	}
}

// BenchmarkParseRequest reads the envelope and params of a 2026-07-28
// tools/call: the JSON scanning alone, the part of a call the other
// benchmarks hide behind the handler's and HTTP's work.
func BenchmarkParseRequest(b *testing.B) {
	body := []byte(echoCall("1", `"hello"`))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		e, method, problem := parseEnvelope(body)
		if problem != "" || string(method) != "tools/call" {
			b.Fatalf("misread: %q %q", method, problem)
		}
		if p, problem := parseParams(e.params); problem != "" || p.metaVersion == nil || p.name == nil {
			b.Fatalf("misread params: %q", problem)
		}
	}
}
