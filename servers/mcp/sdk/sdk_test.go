package sdk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/tools"
)

// A mode is one way of serving: a transport, and for Streamable HTTP its
// session mode and reply format.
type mode struct {
	name    string
	opts    Options
	stdio   bool
	version string // the protocol version a go-sdk client ends up with
}

var modes = []mode{
	{name: "stateless-json", opts: Options{}, version: "2026-07-28"},
	{name: "stateless-sse", opts: Options{Reply: "sse"}, version: "2026-07-28"},
	{name: "stateful-json", opts: Options{Stateful: true}, version: "2025-11-25"},
	{name: "stateful-sse", opts: Options{Stateful: true, Reply: "sse"}, version: "2025-11-25"},
	{name: "legacy-sse", opts: Options{Transport: "sse"}, version: LegacySSEVersion},
	{name: "stdio", stdio: true, version: "2026-07-28"},
}

// connect serves m in process (httptest over loopback, or pipes for stdio)
// and returns a connected go-sdk client session; cleanup closes both sides.
func connect(tb testing.TB, m mode) *mcp.ClientSession {
	tb.Helper()
	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpbench-test", Version: "1"}, nil)
	var transport mcp.Transport
	if m.stdio {
		c2sR, c2sW := io.Pipe()
		s2cR, s2cW := io.Pipe()
		served := make(chan error, 1)
		go func() { served <- ServeStdio(ctx, c2sR, s2cW) }()
		tb.Cleanup(func() {
			select {
			case err := <-served:
				if err != nil {
					tb.Errorf("ServeStdio: %v", err)
				}
			case <-time.After(10 * time.Second):
				tb.Errorf("ServeStdio did not return after its input closed")
			}
		})
		transport = &mcp.IOTransport{Reader: s2cR, Writer: c2sW}
	} else {
		h, err := Handler(m.opts)
		if err != nil {
			tb.Fatalf("Handler(%+v): %v", m.opts, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/mcp", h)
		srv := httptest.NewServer(mux)
		tb.Cleanup(srv.Close)
		if m.opts.Transport == "sse" {
			transport = &mcp.SSEClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: srv.Client()}
		} else {
			transport = &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: srv.Client(), MaxRetries: -1}
		}
	}
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		tb.Fatalf("%s: connect: %v", m.name, err)
	}
	tb.Cleanup(func() { cs.Close() })
	return cs
}

// call calls tool with raw JSON arguments and returns the result's one text.
func call(ctx context.Context, cs *mcp.ClientSession, tool, args string) (text string, isError bool, err error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: json.RawMessage(args)})
	if err != nil {
		return "", false, err
	}
	if len(res.Content) != 1 {
		return "", res.IsError, fmt.Errorf("%d content items, want 1", len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		return "", res.IsError, fmt.Errorf("content is %T, want *mcp.TextContent", res.Content[0])
	}
	return tc.Text, res.IsError, nil
}

func sha256Chain(rounds int) string {
	sum := sha256.Sum256([]byte("mcpbench"))
	for range rounds {
		sum = sha256.Sum256(sum[:])
	}
	return hex.EncodeToString(sum[:])
}

func TestModes(t *testing.T) {
	calls := []struct {
		name, tool, args string
		check            func(text string) error
	}{
		{"echo", "echo", `{"message":"hello, mcp"}`, equals("hello, mcp")},
		{"echo empty", "echo", `{"message":""}`, equals("")},
		{"compute 0 rounds", "compute", `{"rounds":0}`, equals(sha256Chain(0))},
		{"compute 3 rounds", "compute", `{"rounds":3}`, equals(sha256Chain(3))},
		{"payload 0", "payload", `{"bytes":0}`, length(0)},
		{"payload 100000", "payload", `{"bytes":100000}`, length(100000)},
		{"sleep", "sleep", `{"ms":1}`, equals("slept 1 ms")},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cs := connect(t, m)

			init := cs.InitializeResult()
			if init.ProtocolVersion != m.version {
				t.Errorf("protocol version %q, want %q", init.ProtocolVersion, m.version)
			}
			if init.ServerInfo == nil || init.ServerInfo.Name != Implementation.Name || init.ServerInfo.Version != Implementation.Version {
				t.Errorf("server info %+v, want %+v", init.ServerInfo, Implementation)
			}

			list, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			if len(list.Tools) != len(tools.List()) {
				t.Fatalf("tools/list: %d tools, want %d", len(list.Tools), len(tools.List()))
			}
			byName := map[string]*mcp.Tool{}
			for _, tool := range list.Tools {
				byName[tool.Name] = tool // the SDK lists tools sorted by name
			}
			for _, want := range tools.List() {
				got, ok := byName[want.Name]
				if !ok {
					t.Errorf("tools/list lacks %s", want.Name)
					continue
				}
				var wantSchema any
				if err := json.Unmarshal(want.InputSchema, &wantSchema); err != nil {
					t.Fatal(err)
				}
				if got.Name != want.Name || got.Description != want.Description || !reflect.DeepEqual(got.InputSchema, wantSchema) {
					t.Errorf("tool %s: got %s %q %v, want %s %q %v", want.Name, got.Name, got.Description, got.InputSchema, want.Name, want.Description, wantSchema)
				}
			}

			for _, c := range calls {
				text, isError, err := call(ctx, cs, c.tool, c.args)
				if err != nil || isError {
					t.Errorf("%s: isError %v, err %v (%.80q)", c.name, isError, err, text)
					continue
				}
				if err := c.check(text); err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			}
		})
	}
}

func equals(want string) func(string) error {
	return func(got string) error {
		if got != want {
			return fmt.Errorf("text %.80q, want %.80q", got, want)
		}
		return nil
	}
}

func length(n int) func(string) error {
	return func(got string) error {
		if len(got) != n {
			return fmt.Errorf("text of %d bytes, want %d", len(got), n)
		}
		return nil
	}
}

// Bad arguments are the tool's business: a result with isError true, and
// the session goes on. An unknown tool is a JSON-RPC error.
func TestBadArguments(t *testing.T) {
	cases := []struct {
		name, tool, args string
		wantText         string // in the error text
	}{
		{"negative rounds", "compute", `{"rounds":-1}`, `"rounds" is -1`},
		{"rounds above cap", "compute", fmt.Sprintf(`{"rounds":%d}`, tools.MaxRounds+1), `want 0 to`},
		{"payload above cap", "payload", fmt.Sprintf(`{"bytes":%d}`, tools.MaxPayload+1), `"bytes" is`},
		{"rounds as string", "compute", `{"rounds":"3"}`, `must be an integer`},
		{"rounds fractional", "compute", `{"rounds":2.5}`, `must be an integer`},
		{"message as number", "echo", `{"message":5}`, `"message" must be a string`},
		{"message missing", "echo", `{}`, `"message" is required`},
		{"arguments absent", "sleep", ``, `"ms" is required`},
		{"sleep negative", "sleep", `{"ms":-5}`, `"ms" is -5`},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cs := connect(t, m)
			for _, c := range cases {
				args := c.args
				if args == "" {
					args = "null" // json.RawMessage("") does not marshal; null is "no arguments"
				}
				text, isError, err := call(ctx, cs, c.tool, args)
				if err != nil {
					t.Errorf("%s: want a tool error, got a protocol error: %v", c.name, err)
				} else if !isError || !strings.Contains(text, c.wantText) {
					t.Errorf("%s: isError %v, text %q; want isError and %q", c.name, isError, text, c.wantText)
				}
				if text, _, err := call(ctx, cs, "echo", `{"message":"still here"}`); err != nil || text != "still here" {
					t.Fatalf("after %s: echo = %q, %v", c.name, text, err)
				}
			}

			_, _, err := call(ctx, cs, "no-such-tool", `{}`)
			var werr *jsonrpc.Error
			if !errors.As(err, &werr) || werr.Code != jsonrpc.CodeInvalidParams {
				t.Errorf("unknown tool: err %v, want a JSON-RPC error %d", err, jsonrpc.CodeInvalidParams)
			}
			if text, _, err := call(ctx, cs, "echo", `{"message":"still here"}`); err != nil || text != "still here" {
				t.Errorf("after unknown tool: echo = %q, %v", text, err)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero value", Options{}, true},
		{"all spelled out", Options{Transport: "http", Reply: "json", MaxBody: 10}, true},
		{"stateful sse replies", Options{Stateful: true, Reply: "sse"}, true},
		{"legacy sse", Options{Transport: "sse"}, true},
		{"unknown transport", Options{Transport: "websocket"}, false},
		{"unknown reply", Options{Reply: "xml"}, false},
		{"reply with legacy sse", Options{Transport: "sse", Reply: "json"}, false},
		{"stateful with legacy sse", Options{Transport: "sse", Stateful: true}, false},
		{"negative body limit", Options{MaxBody: -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := Handler(c.opts)
			if c.ok != (err == nil) || c.ok != (h != nil) {
				t.Fatalf("Handler(%+v) = %v, %v; want ok %v", c.opts, h, err, c.ok)
			}
			if !c.ok && !errors.Is(err, ErrBadOptions) {
				t.Errorf("error %v does not wrap ErrBadOptions", err)
			}
		})
	}
}
