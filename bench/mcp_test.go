package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/mcp/fast"
)

// sdkServer is a go-sdk server with an echo tool that fails on "fail".
func sdkServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	s.AddTool(&mcp.Tool{Name: "echo", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var a struct{ Message string }
			err := json.Unmarshal(req.Params.Arguments, &a)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: a.Message}}, IsError: err != nil}, nil
		})
	return s
}

// TestMain doubles the test binary as a stdio MCP server.
func TestMain(m *testing.M) {
	if os.Getenv("BENCH_TEST_STDIO_SERVER") != "" {
		if err := sdkServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func fastServer(t *testing.T, reply string) string {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fast.Serve(ctx, ln, fast.Options{Reply: reply}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String() + "/mcp"
}

func runMCP(t *testing.T, cfg MCPConfig, n uint64) *Result {
	t.Helper()
	cfg.Connections = 4
	d, err := NewMCP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := mustRun(t, context.Background(), Config{Driver: d, Closed: true, Connections: 4, Requests: n, Timeout: 5 * time.Second})
	if bc, ok := d.(ByteCounter); ok {
		if r, w := bc.Bytes(); r == 0 || w == 0 {
			t.Errorf("bytes not counted: %d read, %d written", r, w)
		}
	}
	return res
}

func TestMCPDrivers(t *testing.T) {
	sdkStateful := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return sdkServer() }, &mcp.StreamableHTTPOptions{JSONResponse: true}))
	defer sdkStateful.Close()
	sdkStatefulSSE := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return sdkServer() }, nil))
	defer sdkStatefulSSE.Close()
	sdkStateless := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return sdkServer() }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	defer sdkStateless.Close()
	legacy := httptest.NewServer(mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return sdkServer() }, nil))
	defer legacy.Close()
	exe, _ := os.Executable()
	os.Setenv("BENCH_TEST_STDIO_SERVER", "1")
	defer os.Unsetenv("BENCH_TEST_STDIO_SERVER")

	for _, tc := range []struct {
		name string
		cfg  MCPConfig
	}{
		{"fast stateless json", MCPConfig{URL: fastServer(t, "json")}},
		{"fast stateless sse", MCPConfig{URL: fastServer(t, "sse")}},
		{"fast 2025-11-25", MCPConfig{URL: fastServer(t, "json"), Protocol: MCP20251125}},
		{"fast auto", MCPConfig{URL: fastServer(t, "json"), Protocol: "auto"}},
		{"sdk stateless", MCPConfig{URL: sdkStateless.URL}},
		{"sdk stateful json", MCPConfig{URL: sdkStateful.URL, Protocol: MCP20251125}},
		{"sdk stateful sse", MCPConfig{URL: sdkStatefulSSE.URL, Protocol: MCP20251125}},
		{"sdk stateful auto", MCPConfig{URL: sdkStateful.URL, Protocol: "auto"}},
		{"sdk legacy sse", MCPConfig{URL: legacy.URL, Transport: "sse"}},
		{"sdk stdio", MCPConfig{Command: []string{exe}, Transport: "stdio"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runMCP(t, tc.cfg, 200)
			if a := res.Accounting; a.OK != 200 {
				t.Errorf("accounting %+v", a)
			}
			// A tool error is a protocol error with the tool-error code.
			cfg := tc.cfg
			cfg.Arguments = json.RawMessage(`{"message":5}`)
			res = runMCP(t, cfg, 20)
			if got := res.Accounting.ByCode["protocol -1"]; got != 20 {
				t.Errorf("tool errors: %+v", res.Accounting)
			}
			// An unknown tool is a JSON-RPC error.
			cfg.Tool, cfg.Arguments = "nope", nil
			res = runMCP(t, cfg, 10)
			if res.Accounting.ByClass["protocol"] != 10 {
				t.Errorf("unknown tool: %+v", res.Accounting)
			}
		})
	}
}

// TestMCPSessionLost: a server that forgets a session (404) gets a new
// initialize, and the call goes through.
func TestMCPSessionLost(t *testing.T) {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return sdkServer() }, &mcp.StreamableHTTPOptions{JSONResponse: true})
	var calls, lost atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Mcp-Session-Id") != "" && r.Method == "POST" && calls.Add(1) == 5 {
			lost.Add(1)
			http.Error(w, "session not found", 404)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	res := runMCP(t, MCPConfig{URL: srv.URL, Protocol: MCP20251125}, 50)
	if lost.Load() != 1 || res.Accounting.OK != 50 {
		t.Errorf("lost %d sessions; accounting %+v", lost.Load(), res.Accounting)
	}
}

// TestMCPCloseUnblocks: closing the driver ends a call stuck on a server
// that never answers.
func TestMCPCloseUnblocks(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Mcp-Method"), "tools/call") {
			<-block
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jsonrpc":"2.0","id":0,"result":{}}`))
	}))
	defer srv.Close()
	defer close(block)
	d, err := NewMCP(MCPConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.(Preparer).Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := d.Open(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Outcome, 1)
	go func() { got <- c.Call(time.Now().Add(time.Minute)) }()
	time.Sleep(100 * time.Millisecond)
	d.Close()
	select {
	case o := <-got:
		if o.Class != ErrTransport {
			t.Errorf("outcome %v", o)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the blocked call")
	}
}

func TestNewMCPRejects(t *testing.T) {
	for name, cfg := range map[string]MCPConfig{
		"bad URL":         {URL: "ftp://x"},
		"bad protocol":    {URL: "http://127.0.0.1:1/mcp", Protocol: "2099-01-01"},
		"bad arguments":   {URL: "http://127.0.0.1:1/mcp", Arguments: json.RawMessage(`[1]`)},
		"stdio, no cmd":   {Transport: "stdio"},
		"bad transport":   {URL: "http://127.0.0.1:1/mcp", Transport: "ws"},
		"stdio and token": {Transport: "stdio", Command: []string{"x"}, Token: &OAuth{}},
	} {
		if _, err := NewMCP(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func BenchmarkMCPStatelessEcho(b *testing.B) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fast.Serve(ctx, ln, fast.Options{})
	d, err := NewMCP(MCPConfig{URL: "http://" + ln.Addr().String() + "/mcp", Connections: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := d.(Preparer).Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	c, _ := d.Open(ctx, 0)
	b.ReportAllocs()
	for b.Loop() {
		if o := c.Call(time.Now().Add(5 * time.Second)); o.Class != OK {
			b.Fatal(o)
		}
	}
}
