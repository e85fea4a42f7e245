package gateway

import (
	"runtime"
	"testing"

	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/servers/internal/hostile"
)

// TestOverload: at twice its rate limit the gateway keeps serving within
// the limit, refuses the excess with 429 (counted apart by the harness),
// fails nothing else, and its memory stays flat.
func TestOverload(t *testing.T) {
	const limit = 200 // requests per second per key
	gw := startGateway(t, Options{Upstream: startREST(t), Auth: "apikey", APIKeys: []string{"k"}, RateLimit: limit, Burst: 20})
	cfg := httpcall.RESTCall(gw+"/tools", "echo", []byte(`{"message":"x"}`))
	cfg.Header = append(cfg.Header, driver.Header{Name: "X-API-Key", Value: "k"})
	d, err := httpcall.New(cfg)
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
