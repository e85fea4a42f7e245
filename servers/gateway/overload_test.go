package gateway

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
)

// TestOverload: at twice its rate limit the gateway keeps serving within
// the limit, refuses the excess with 429 (counted apart by the harness),
// fails nothing else, and its memory stays flat.
func TestOverload(t *testing.T) {
	const limit = 200 // requests per second per key
	gw := startGateway(t, Options{Upstream: startREST(t), Auth: "apikey", APIKeys: []string{"k"}, RateLimit: limit, Burst: 20})
	cfg := bench.RESTCall(gw+"/tools", "echo", []byte(`{"message":"x"}`))
	cfg.Header = append(cfg.Header, bench.Header{Name: "X-API-Key", Value: "k"})
	d, err := bench.NewHTTP(cfg)
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
	secs := res.Duration.Seconds()
	if ok := float64(a.OK) / secs; ok < 0.8*limit || ok > 1.2*limit {
		t.Errorf("served %.0f/s under a limit of %d/s", ok, limit)
	}
	if a.ByClass["rate_limited"] == 0 || a.ByClass["rate_limited"]+a.OK != a.Scheduled {
		t.Errorf("the excess was not refused with 429 alone: %+v", a)
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("heap grew by %d MiB under overload", grew>>20)
	}
}
