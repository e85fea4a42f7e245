package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/internal/golden"
	"github.com/mcpbench/mcpbench/servers/mcp/fixtures"
)

// -update rewrites the golden files.

// mcpMeta is the per-request _meta of protocol 2026-07-28.
const mcpMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"golden","version":"1"}}`

// An mcpExchange is one POST to /mcp, written by hand so that the bytes a
// benchmark's client sees are exactly what is compared.
type mcpExchange struct {
	label   string
	version string // Mcp-Protocol-Version; "" sends none
	method  string // Mcp-Method; "" sends none
	body    string
}

// Stateless servers: what a 2026-07-28 client learns (server/discover,
// tools/list) and what an older one does (initialize, then tools/list
// without a session).
var statelessExchanges = []mcpExchange{
	{"server/discover 2026-07-28", "2026-07-28", "server/discover", `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + mcpMeta + `}}`},
	{"tools/list 2026-07-28", "2026-07-28", "tools/list", `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{` + mcpMeta + `}}`},
	{"initialize 2025-11-25", "", "", `{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"golden","version":"1"}}}`},
	{"tools/list 2025-11-25", "2025-11-25", "", `{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{}}`},
}

// A session: initialize, initialized, tools/list, in that session.
var statefulExchanges = []mcpExchange{
	statelessExchanges[2],
	{"notifications/initialized", "2025-11-25", "", `{"jsonrpc":"2.0","method":"notifications/initialized"}`},
	statelessExchanges[3],
}

// TestServeMCPAnnouncesOnlyTheBenchTools: without --fixtures, what an MCP
// server started by `mcpbench serve mcp` announces (its discover or
// initialize result, its tools/list) is byte for byte what it was before
// the conformance fixtures existed (testdata/serve_mcp/*.golden, captured
// then), so no benchmark run ever sees a fixture. -update rewrites them.
func TestServeMCPAnnouncesOnlyTheBenchTools(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		exchanges []mcpExchange
	}{
		{"sdk-json", []string{"--impl", "sdk"}, statelessExchanges},
		{"sdk-sse", []string{"--impl", "sdk", "--reply", "sse"}, statelessExchanges},
		{"sdk-stateful", []string{"--impl", "sdk", "--stateful"}, statefulExchanges},
		{"fast-json", []string{"--impl", "fast"}, statelessExchanges},
		{"fast-sse", []string{"--impl", "fast", "--reply", "sse"}, statelessExchanges},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := startServe(t, append([]string{"mcp"}, tc.args...)...) // ends in /mcp
			got := transcript(t, url, tc.exchanges)
			golden.Check(t, filepath.Join("testdata", "serve_mcp", tc.name+".golden"), got)
		})
	}
}

// transcript posts the exchanges in order (carrying a session id once one
// is issued) and writes down each answer: status, Content-Type, body.
func transcript(t *testing.T, url string, exchanges []mcpExchange) []byte {
	t.Helper()
	var out bytes.Buffer
	session := ""
	for _, x := range exchanges {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(x.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if x.version != "" {
			req.Header.Set("Mcp-Protocol-Version", x.version)
		}
		if x.method != "" {
			req.Header.Set("Mcp-Method", x.method)
		}
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", x.label, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", x.label, err)
		}
		if resp.StatusCode/100 != 2 {
			t.Errorf("%s: %s %s", x.label, resp.Status, body)
		}
		if s := resp.Header.Get("Mcp-Session-Id"); s != "" {
			session = s
		}
		fmt.Fprintf(&out, "== %s\n%d %s\n%s\n", x.label, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return out.Bytes()
}

// TestServeMCPFixtures: --fixtures conformance adds the fixtures to what
// the sdk server lists, stateless and with sessions; bad uses are refused
// before anything listens.
func TestServeMCPFixtures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		exchanges []mcpExchange
		declares  []string
	}{
		{"stateless", []string{"--impl", "sdk"}, statelessExchanges, []string{`"prompts":{"listChanged":true}`, `"completions":{}`}},
		{"stateful", []string{"--impl", "sdk", "--stateful", "--reply", "sse"}, statefulExchanges, []string{`"prompts":{"listChanged":true}`, `"completions":{}`}},
		{"fast", []string{"--impl", "fast"}, statelessExchanges, []string{`"prompts":{}`, `"completions":{}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := startServe(t, append([]string{"mcp", "--fixtures", "conformance"}, tc.args...)...)
			got := string(transcript(t, url, tc.exchanges))
			for _, want := range append([]string{`"name":"` + fixtures.SimpleText + `"`, `"name":"` + fixtures.InputMultiRound + `"`}, tc.declares...) {
				if !strings.Contains(got, want) {
					t.Errorf("no %s in\n%s", want, got)
				}
			}
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fixtures", "everything"}, "--fixtures is conformance"},
		{[]string{"--fixtures", "conformance", "--transport", "stdio"}, "--fixtures is for --transport http or sse"},
	} {
		if code, o, e := run(t, append([]string{"serve", "mcp"}, tc.args...)...); code != 2 || !strings.Contains(o+e, tc.want) {
			t.Errorf("serve mcp %v: exit %d, want 2 and %q:\n%s%s", tc.args, code, tc.want, o, e)
		}
	}
}
