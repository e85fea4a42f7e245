package mcp_test

import (
	"context"
	"fmt"
	"net"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver/mcp"
	"github.com/mcpbench/mcpbench/servers/mcp/fast"
)

// The MCP driver calling the fast server's echo tool over Streamable HTTP
// (2026-07-28, stateless), closed loop.
func ExampleNew() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go fast.Serve(ctx, ln, fast.Options{})
	d, err := mcp.New(mcp.Config{URL: "http://" + ln.Addr().String() + "/mcp", Tool: "echo", Arguments: []byte(`{"message":"hi"}`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	res, err := bench.Run(ctx, bench.Config{Driver: d, Closed: true, Connections: 2, Requests: 50})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d ok, %d errors\n", res.Accounting.OK, res.Accounting.Errors)
	// Output:
	// 50 ok, 0 errors
}
