package graphql

import (
	"context"
	"net"
	"runtime"
	"testing"

	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/servers/internal/hostile"
)

// TestOverload: at twice its rate limit the GraphQL server serves within
// the limit, refuses the rest with 429 only, and its heap stays flat.
func TestOverload(t *testing.T) {
	const limit = 200
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Options{RateLimit: limit, Burst: 20}) }()
	defer func() { cancel(); <-done }()
	d, err := httpcall.NewGraphQL(httpcall.GraphQLConfig{URL: "http://" + ln.Addr().String() + "/graphql", Query: `{ echo(message: "x") }`, Connections: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hostile.Overload(t, d, limit, 0.8, 1.2)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("heap grew by %d MiB under overload", grew>>20)
	}
}
