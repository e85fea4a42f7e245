package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkToolsCallEcho is one echo call through a go-sdk client and this
// server, in process: over loopback HTTP (httptest) or pipes (stdio). It
// counts both sides, client included.
//
// Each call gets its own CallToolParams: the go-sdk client writes into the
// one it is given (the 2026-07-28 _meta), so sharing one across calls, let
// alone goroutines, is a data race.
func BenchmarkToolsCallEcho(b *testing.B) {
	args := json.RawMessage(`{"message":"hello, mcp"}`)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			ctx := context.Background()
			cs := connect(b, m)
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: args})
				if err != nil || res.IsError {
					b.Fatalf("echo: %v %v", res, err)
				}
			}
		})
	}
}

// BenchmarkHandlerEcho is the server side alone: one 2026-07-28 echo call
// handed to the stateless handler in memory, no client and no network.
func BenchmarkHandlerEcho(b *testing.B) {
	for _, reply := range []string{"json", "sse"} {
		b.Run("stateless-"+reply, func(b *testing.B) {
			h, err := Handler(Options{Reply: reply})
			if err != nil {
				b.Fatal(err)
			}
			call := goodCall()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(call.body))
				req.Header = call.header
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
