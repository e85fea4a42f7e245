package fast_test

import (
	"context"
	"fmt"
	"net"

	"github.com/mcpbench/mcpbench/servers/mcp/fast"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// A 2026-07-28 tools/call: the headers mirror the body, _meta carries the
// protocol version and client capabilities, and the result says
// resultType "complete" and who answered.
func Example() {
	ln := fasthttputil.NewInmemoryListener() // or net.Listen("tcp", "127.0.0.1:8080")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fast.Serve(ctx, ln, fast.Options{Reply: "json"}) }()
	defer func() { cancel(); <-done }()

	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://localhost/mcp")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", "echo")
	req.SetBodyString(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},` +
		`"name":"echo","arguments":{"message":"hi"}}}`)
	client := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	if err := client.Do(req, resp); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode(), string(resp.Header.ContentType()))
	fmt.Println(string(resp.Body()))
	// Output:
	// 200 application/json
	// {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}],"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"mcpbench-fast","version":"1"}}}}
}
