package graphql

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
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
	d, err := bench.NewGraphQL(bench.GraphQLConfig{URL: "http://" + ln.Addr().String() + "/graphql", Query: `{ echo(message: "x") }`, Connections: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, _ := bench.Constant(2 * limit)
	res, err := bench.Run(context.Background(), bench.Config{Driver: d, Pacer: p, Connections: 8, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	a := res.Accounting
	if ok := float64(a.OK) / res.Duration.Seconds(); ok < 0.8*limit || ok > 1.2*limit {
		t.Errorf("served %.0f/s under a limit of %d/s", ok, limit)
	}
	if a.ByClass["rate_limited"] == 0 || a.ByClass["rate_limited"]+a.OK != a.Scheduled {
		t.Errorf("the excess was not refused with 429 alone: %+v", a)
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("heap grew by %d MiB under overload", grew>>20)
	}
}
