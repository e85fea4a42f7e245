package gateway

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/servers/internal/hostile"
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
	cfg := httpcall.RESTCall(h.URL()+"/tools", "echo", []byte(`{"message":"x"}`))
	cfg.Header = append(cfg.Header, driver.Header{Name: "X-API-Key", Value: "k"})
	d, err := httpcall.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	before := hapRSS(t, h.Pid())
	hostile.Overload(t, d, limit, 0.6, 1.4)
	after := hapRSS(t, h.Pid())
	if after-before > 16<<10 {
		t.Errorf("HAProxy's RSS grew from %d to %d KiB under overload", before, after)
	}
}
