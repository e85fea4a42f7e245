package hostile

import (
	"context"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
)

// Overload drives d open loop at twice limit (requests per second) for 3 s
// and checks that the server served between lo and hi times the limit and
// refused every other call with 429 alone. Callers check memory around it.
func Overload(t *testing.T, d bench.Driver, limit, lo, hi float64) *bench.Result {
	t.Helper()
	p, _ := bench.Constant(2 * limit)
	res, err := bench.Run(context.Background(), bench.Config{Driver: d, Pacer: p, Connections: 8, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Accounting
	if ok := float64(a.OK) / res.Duration.Seconds(); ok < lo*limit || ok > hi*limit {
		t.Errorf("served %.0f/s under a limit of %.0f/s: %+v", ok, limit, a)
	}
	if a.ByClass["rate_limited"] == 0 || a.ByClass["rate_limited"]+a.OK != a.Scheduled {
		t.Errorf("the excess was not refused with 429 alone: %+v", a)
	}
	return res
}
