package gateway

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
)

// hapRSS reads a process's resident set size in KiB.
func hapRSS(t *testing.T, pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestHAProxyOverload: HAProxy at twice its stick-table limit serves
// within it, answers the excess with 429 only, and its memory stays flat.
func TestHAProxyOverload(t *testing.T) {
	hapNeed(t)
	const limit = 200
	h := hapStart(t, HAProxyConfig{Upstream: startREST(t), Auth: "apikey", APIKeys: []string{"k"}, RateLimit: limit})
	cfg := bench.RESTCall(h.URL()+"/tools", "echo", []byte(`{"message":"x"}`))
	cfg.Header = append(cfg.Header, bench.Header{Name: "X-API-Key", Value: "k"})
	d, err := bench.NewHTTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	before := hapRSS(t, h.Pid())
	p, _ := bench.Constant(2 * limit)
	res, err := bench.Run(context.Background(), bench.Config{Driver: d, Pacer: p, Connections: 8, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	after := hapRSS(t, h.Pid())
	a := res.Accounting
	// http_req_rate(1s) is a sliding estimate: allow a wider band than a token bucket.
	if ok := float64(a.OK) / res.Duration.Seconds(); ok < 0.6*limit || ok > 1.4*limit {
		t.Errorf("served %.0f/s under a limit of %d/s: %+v", ok, limit, a)
	}
	if a.ByClass["rate_limited"] == 0 || a.ByClass["rate_limited"]+a.OK != a.Scheduled {
		t.Errorf("the excess was not refused with 429 alone: %+v", a)
	}
	if after-before > 16<<10 {
		t.Errorf("HAProxy's RSS grew from %d to %d KiB under overload", before, after)
	}
}
