package mcp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/benchtest"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/oauth"
	"github.com/mcpbench/mcpbench/servers/mcp/sdk"
	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// testServerEnv makes the test binary an MCP server on stdio (TestMain):
// "sdk" the go-sdk server, "serve" what `mcpbench serve mcp --impl sdk
// --transport stdio` runs, "noisy" a hand-written one that surrounds each
// response with what a client must skip, "stubborn" one that ignores the
// end of its input and SIGTERM.
const testServerEnv = "BENCH_MCP_TEST_SERVER"

// blockFor is how long the block tool takes: longer than any test waits
// before it closes a blocked call.
const blockFor = time.Second

func TestMain(m *testing.M) {
	switch os.Getenv(testServerEnv) {
	case "":
		os.Exit(m.Run())
	case "sdk":
		if err := sdkServer().Run(context.Background(), &gosdk.StdioTransport{}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "serve":
		if err := sdk.ServeStdio(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "noisy":
		os.Exit(handServer(false))
	case "stubborn":
		os.Exit(handServer(true))
	}
	os.Exit(2)
}

// sdkServer is a go-sdk server with tools: echo, which fails (isError) on
// a message that is not a string, and block, which answers after
// blockFor, or when its request ends (the go-sdk does not end a stateless
// request's context when the client goes away: servers under test would
// wait for it on Close).
func sdkServer() *gosdk.Server {
	s := gosdk.NewServer(&gosdk.Implementation{Name: "test", Version: "1"}, nil)
	s.AddTool(&gosdk.Tool{Name: "echo", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *gosdk.CallToolRequest) (*gosdk.CallToolResult, error) {
			var a struct{ Message string }
			err := json.Unmarshal(req.Params.Arguments, &a)
			return &gosdk.CallToolResult{Content: []gosdk.Content{&gosdk.TextContent{Text: a.Message}}, IsError: err != nil}, nil
		})
	s.AddTool(&gosdk.Tool{Name: "block", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *gosdk.CallToolRequest) (*gosdk.CallToolResult, error) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(blockFor):
				return &gosdk.CallToolResult{}, nil
			}
		})
	return s
}

// handServer answers initialize and tools/call on stdio, and around every
// response writes a log notification, a line that is not JSON, a ping
// request to the client, and a response to another id. stubborn ignores
// SIGTERM and stays after its input ends.
func handServer(stubborn bool) int {
	if stubborn {
		signal.Ignore(syscall.SIGTERM)
	}
	out := bufio.NewWriter(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(in.Bytes(), &m) != nil || m.ID == nil || m.Method == "" {
			continue // a notification, or our answer to the ping
		}
		result := `{"content":[{"type":"text","text":"hello"}]}`
		if m.Method == "initialize" {
			result = `{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"hand","version":"1"}}`
		}
		fmt.Fprintf(out, `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}`+"\n")
		fmt.Fprintf(out, "not json at all\n")
		fmt.Fprintf(out, `{"jsonrpc":"2.0","id":"srv-1","method":"ping"}`+"\n")
		fmt.Fprintf(out, `{"jsonrpc":"2.0","id":9999%s,"result":{"isError":true}}`+"\r\n", m.ID)
		fmt.Fprintf(out, `{"jsonrpc":"2.0","id":%s,"result":%s}`+"\n", m.ID, result)
		out.Flush()
	}
	if stubborn {
		time.Sleep(time.Hour)
	}
	return 0
}

// runMCP runs n calls, closed loop, on 4 connections, checks the books
// and the byte counts, and returns the result.
func runMCP(t *testing.T, cfg Config, n uint64) *bench.Result {
	t.Helper()
	return runMCPOn(t, cfg, n, bench.EngineAuto)
}

// runMCPOn is runMCP on the engine given.
func runMCPOn(t *testing.T, cfg Config, n uint64, engine string) *bench.Result {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A generous per-call timeout: a lost reply still fails the test (as a
	// timeout), a -race server slowed by a busy machine does not (seen once:
	// one stdio call over 5 s in a full make test).
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Closed: true, Connections: 4, Requests: n, Timeout: 30 * time.Second, Engine: engine})
	if a := res.Accounting; a.Scheduled != n || a.InFlight != 0 || a.Queued != 0 {
		t.Errorf("accounting %+v, want %d scheduled, all done", a, n)
	}
	if r, w := d.(bench.ByteCounter).Bytes(); r == 0 || w == 0 {
		t.Errorf("bytes not counted: %d read, %d written", r, w)
	}
	if res.BytesPerCall <= 0 {
		t.Errorf("bytes per call %v", res.BytesPerCall)
	}
	return res
}

// checkCalls runs the echo, a tool error and an unknown tool on cfg and
// checks how each is classified.
func checkCalls(t *testing.T, cfg Config) {
	t.Helper()
	for _, engine := range []string{bench.EngineWorkers, bench.EngineLoop} {
		if strings.HasPrefix(cfg.URL, "https:") && engine == bench.EngineLoop || cfg.Transport != "" && cfg.Transport != "http" && engine == bench.EngineLoop {
			continue
		}
		if a := runMCPOn(t, cfg, 200, engine).Accounting; a.OK != 200 {
			t.Errorf("%s: echo: %+v", engine, a)
		}
		bad := cfg
		bad.Arguments = json.RawMessage(`{"message":5}`)
		if a := runMCPOn(t, bad, 20, engine).Accounting; a.ByCode[fmt.Sprint("protocol ", ToolErrorCode)] != 20 {
			t.Errorf("%s: tool error: %+v", engine, a)
		}
		bad.Tool, bad.Arguments = "nope", nil
		if a := runMCPOn(t, bad, 10, engine).Accounting; a.ByCode["protocol -32602"] != 10 {
			t.Errorf("%s: unknown tool: %+v, want protocol -32602 (the go-sdk's invalid params)", engine, a)
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"bad URL", Config{URL: "ftp://x"}},
		{"no URL", Config{}},
		{"bad protocol", Config{URL: "http://127.0.0.1:1/mcp", Protocol: "2099-01-01"}},
		{"arguments not an object", Config{URL: "http://127.0.0.1:1/mcp", Arguments: json.RawMessage(`[1]`)}},
		{"arguments not JSON", Config{URL: "http://127.0.0.1:1/mcp", Arguments: json.RawMessage(`{`)}},
		{"tool name with a space", Config{URL: "http://127.0.0.1:1/mcp", Tool: "a b"}},
		{"tool name not ASCII", Config{URL: "http://127.0.0.1:1/mcp", Tool: "é"}},
		{"negative timeout", Config{URL: "http://127.0.0.1:1/mcp", Timeout: -time.Second}},
		{"bad transport", Config{URL: "http://127.0.0.1:1/mcp", Transport: "ws"}},
		{"stdio without a command", Config{Transport: "stdio"}},
		{"stdio with a token", Config{Transport: "stdio", Command: []string{"x"}, Auth: driver.BearerOf(&oauth.Client{})}},
		{"legacy SSE at 2026-07-28", Config{URL: "http://127.0.0.1:1/sse", Transport: "sse", Protocol: MCP20260728}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); !errors.Is(err, bench.ErrConfig) {
				t.Errorf("got %v, want ErrConfig", err)
			}
		})
	}
}

// TestMCPCallBody: the 2026-07-28 request carries the _meta keys the
// go-sdk defines, the arguments compacted, and the id it is given.
func TestMCPCallBody(t *testing.T) {
	cfg := Config{Tool: "echo", Arguments: json.RawMessage(`{"message": "hi"}`)}
	d, err := New(Config{URL: "http://127.0.0.1:1/mcp", Arguments: cfg.Arguments})
	if err != nil {
		t.Fatal(err)
	}
	body := d.(*streamable).call.append(nil, 42)
	var req struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int64  `json:"id"`
		Method  string `json:"method"`
		Params  struct {
			Meta      map[string]json.RawMessage `json:"_meta"`
			Name      string                     `json:"name"`
			Arguments json.RawMessage            `json:"arguments"`
		} `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if req.JSONRPC != "2.0" || req.ID != 42 || req.Method != "tools/call" || req.Params.Name != "echo" || string(req.Params.Arguments) != `{"message":"hi"}` {
		t.Errorf("request %s", body)
	}
	if v := string(req.Params.Meta[gosdk.MetaKeyProtocolVersion]); v != `"2026-07-28"` {
		t.Errorf("%s = %s", gosdk.MetaKeyProtocolVersion, v)
	}
	for _, k := range []string{gosdk.MetaKeyClientCapabilities, gosdk.MetaKeyClientInfo} {
		if _, ok := req.Params.Meta[k]; !ok {
			t.Errorf("no %s in %s", k, body)
		}
	}
	session := newCallBody(&Config{Tool: "echo", Arguments: json.RawMessage(`{}`)}, false).append(nil, 7)
	if want := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{}}}`; string(session) != want {
		t.Errorf("session request %s, want %s", session, want)
	}
}

func TestScanMsg(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		want bench.Outcome
		ok   bool // scanMsg walks it
	}{
		{"result", `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"a}\"]"}]}}`, bench.Outcome{Class: bench.OK}, true},
		{"tool error", `{"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":true}}`, bench.Outcome{Class: bench.ClassProtocol, Code: ToolErrorCode}, true},
		{"isError false", `{"id":3,"result":{"isError":false}}`, bench.Outcome{Class: bench.OK}, true},
		{"nested isError does not count", `{"id":3,"result":{"structuredContent":{"isError":true}}}`, bench.Outcome{Class: bench.OK}, true},
		{"input required", `{"id":3,"result":{"resultType":"input_required"}}`, bench.Outcome{Class: bench.ClassProtocol, Code: IncompleteCode}, true},
		{"complete", `{"id":3,"result":{"resultType":"complete"}}`, bench.Outcome{Class: bench.OK}, true},
		{"JSON-RPC error", `{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"unknown tool \"x\""}}`, bench.Outcome{Class: bench.ClassProtocol, Code: -32602}, true},
		{"error first, spaces", " { \"error\" : { \"message\":\"m\", \"code\" : -32601 } , \"id\" : 3 } ", bench.Outcome{Class: bench.ClassProtocol, Code: -32601}, true},
		{"escaped key", `{"id":3,"\u0065rror":{"code":-5}}`, bench.Outcome{Class: bench.ClassProtocol, Code: -5}, true},
		{"no result", `{"jsonrpc":"2.0","id":3}`, bench.Outcome{Class: bench.ClassTransport}, true},
		{"result not an object", `{"id":3,"result":"x"}`, bench.Outcome{Class: bench.ClassTransport}, true},
		{"broken result", `{"id":3,"result":{"isError":}}`, bench.Outcome{Class: bench.ClassTransport}, true},
		{"truncated", `{"jsonrpc":"2.0","id":3,"result":{"content":[`, bench.Outcome{}, false},
		{"not an object", `[{"id":3}]`, bench.Outcome{}, false},
		{"empty", ``, bench.Outcome{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m rpcMsg
			ok := scanMsg([]byte(tc.msg), &m)
			if ok != tc.ok {
				t.Fatalf("scanMsg %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if !m.idIs(3) || m.idIs(4) || !m.isResponse() {
				t.Errorf("id %q", m.id)
			}
			if o := m.outcome(); o != tc.want {
				t.Errorf("outcome %+v, want %+v", o, tc.want)
			}
		})
	}
	var m rpcMsg
	if !scanMsg([]byte(`{"jsonrpc":"2.0","id":"s1","method":"ping"}`), &m) || m.isResponse() || string(m.id) != `"s1"` {
		t.Errorf("a server request: %+v", m)
	}
}

// TestScanMsgAllocs: classifying a reply allocates nothing.
func TestScanMsgAllocs(t *testing.T) {
	msg := []byte(`{"jsonrpc":"2.0","id":12345,"result":{"content":[{"type":"text","text":"hello"}],"isError":false}}`)
	n := testing.AllocsPerRun(100, func() {
		var m rpcMsg
		if !scanMsg(msg, &m) || !m.idIs(12345) || m.outcome().Class != bench.OK {
			t.Fatal("misread")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per reply", n)
	}
}

// BenchmarkScanMsg is the driver's JSON work per reply: finding the
// members of a tools/call response and classifying it.
func BenchmarkScanMsg(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":12345,"result":{"content":[{"type":"text","text":"hello"}],"isError":false}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		var m rpcMsg
		if !scanMsg(msg, &m) || !m.idIs(12345) || m.outcome().Class != bench.OK {
			b.Fatal("misread")
		}
	}
}

// FuzzMCPReply: scanMsg never panics, and on valid JSON it finds the
// members encoding/json finds, with the same values.
func FuzzMCPReply(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}],"isError":true}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"x"}}`,
		`{"id":1,"id":2,"\u0069d":3,"result":{"a":[1,{"b":"}"}]}}`,
		`{"jsonrpc":"2.0","method":"notifications/message","params":{}}`,
		`{"error":{"code":1e3}}`, `[1]`, `{"a":"\\"}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m rpcMsg
		ok := scanMsg(b, &m)
		if ok {
			m.outcome()
			m.idIs(1)
		}
		var want map[string]json.RawMessage
		if !json.Valid(b) || json.Unmarshal(b, &want) != nil || want == nil {
			return
		}
		if !ok {
			t.Fatalf("valid object not walked: %q", b)
		}
		for key, got := range map[string][]byte{"id": m.id, "method": m.method, "error": m.error, "result": m.result} {
			w, present := want[key]
			if present != (got != nil) || present && string(w) != string(got) {
				t.Fatalf("%s: got %q, encoding/json %q (present %v) in %q", key, got, w, present, b)
			}
		}
		if m.error == nil {
			return
		}
		var e map[string]json.RawMessage
		var code int
		if json.Unmarshal(m.error, &e) == nil && e["code"] != nil && json.Unmarshal(e["code"], &code) == nil {
			if got := errorCode(m.error); got != code {
				t.Fatalf("code %d, encoding/json %d in %q", got, code, b)
			}
		}
	})
}

// stdioCommand is the test binary as a stdio server of the given kind.
func stdioCommand(tb testing.TB, kind string) []string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Setenv(testServerEnv, kind)
	tb.Setenv("GORACE", "atexit_sleep_ms=0") // a race-enabled server would wait 1s to exit
	return []string{exe, "-test.run=^$"}
}
