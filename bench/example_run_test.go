package bench_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/drivers"
	"github.com/mcpbench/mcpbench/servers/mcp/fast"
)

// instant is the smallest Driver: every call succeeds at once.
type instant struct{}

func (instant) Open(context.Context, int) (bench.Conn, error) { return instant{}, nil }
func (instant) Close() error                                  { return nil }
func (instant) Call(time.Time) bench.Outcome                  { return bench.Outcome{Class: bench.OK} }

// An open-loop run: 200 calls scheduled at 2,000 a second, each timed from
// when it was due, every one accounted for.
func ExampleRun() {
	pacer, _ := bench.Constant(2000)
	res, err := bench.Run(context.Background(), bench.Config{Driver: instant{}, Pacer: pacer, Requests: 200, Connections: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := res.Accounting
	fmt.Printf("scheduled %d = ok %d + errors %d + in flight %d + queued %d\n", a.Scheduled, a.OK, a.Errors, a.InFlight, a.Queued)
	fmt.Println("latencies recorded:", res.Response.Count)
	// Output:
	// scheduled 200 = ok 200 + errors 0 + in flight 0 + queued 0
	// latencies recorded: 200
}

// The MCP driver calling the fast server's echo tool over Streamable HTTP
// (2026-07-28, stateless), closed loop.
func ExampleNewMCP() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go fast.Serve(ctx, ln, fast.Options{})
	d, err := drivers.NewMCP(drivers.MCPConfig{URL: "http://" + ln.Addr().String() + "/mcp", Tool: "echo", Arguments: []byte(`{"message":"hi"}`)})
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
