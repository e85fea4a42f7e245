package fast

import (
	"path/filepath"
	"testing"

	"github.com/mcpbench/mcpbench/internal/golden"
)

// goldenCases are the answers a server without fixtures must keep byte for
// byte: the fixed results (server/discover, tools/list in both protocol
// generations, initialize) as JSON and as SSE. The files were captured from
// the server before Options.Fixtures existed, so a change here is a change
// to what benchmarks measure.
var goldenCases = []struct {
	file, reply, version, method, name, body string
}{
	{"discover.json", "json", "2026-07-28", "server/discover", "", `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + meta + `}}`},
	{"tools-list.json", "json", "2026-07-28", "tools/list", "", `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{` + meta + `}}`},
	{"discover.sse", "sse", "2026-07-28", "server/discover", "", `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + meta + `}}`},
	{"tools-list.sse", "sse", "2026-07-28", "tools/list", "", `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{` + meta + `}}`},
	{"tools-list-2025-11-25.json", "json", "2025-11-25", "", "", `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`},
	{"initialize-2025-11-25.json", "json", "", "", "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`},
	{"echo.json", "json", "2026-07-28", "tools/call", "echo", echoCall("4", `"hello"`)},
	// What fixtures add is absent: prompts/list is not a method, and a
	// fixture tool is unknown.
	{"prompts-list.json", "json", "2026-07-28", "prompts/list", "", `{"jsonrpc":"2.0","id":5,"method":"prompts/list","params":{` + meta + `}}`},
	{"fixture-tool.json", "json", "2026-07-28", "tools/call", "test_simple_text", `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{` + meta + `,"name":"test_simple_text"}}`},
}

// TestGoldenWithoutFixtures proves that the zero Options (Fixtures false)
// answer exactly as the server did before fixtures were added.
func TestGoldenWithoutFixtures(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.file, func(t *testing.T) {
			s, err := New(Options{Reply: gc.reply})
			if err != nil {
				t.Fatal(err)
			}
			ctx := newCtx([]byte(gc.body), gc.version, gc.method, gc.name)
			s.Handler(ctx)
			got := ctx.Response.Body()
			golden.Check(t, filepath.Join("testdata", "golden", gc.file), got)
		})
	}
}

// TestEchoAllocations pins the allocations of a 2026-07-28 echo call through
// Handler (as BenchmarkToolsCallEcho measures them) at what they were before
// fixtures existed. Handing a request to the fixtures once made the hot
// path's call, params and reply escape to the heap (10 allocations instead
// of 7) although no fixture ran: escape analysis, not code, decides this,
// so only a count catches it.
func TestEchoAllocations(t *testing.T) {
	if raceDetector {
		t.Skip("-race changes what allocates (9 here); make test runs with it, so check without: go test -run TestEchoAllocations")
	}
	const want = 7
	for _, fixtures := range []bool{false, true} {
		s, err := New(Options{Fixtures: fixtures})
		if err != nil {
			t.Fatal(err)
		}
		ctx := newCtx([]byte(echoCall("1", `"hello"`)), "2026-07-28", "tools/call", "echo")
		got := testing.AllocsPerRun(200, func() {
			ctx.Response.Reset()
			s.Handler(ctx)
		})
		if got > want {
			t.Errorf("Fixtures %v: %v allocations per echo call, want at most %d", fixtures, got, want)
		}
	}
}
