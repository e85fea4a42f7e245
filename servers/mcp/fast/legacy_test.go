package fast

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLegacyClients checks what clients of 2025-11-25, 2025-06-18 and
// 2025-03-26 (no MCP-Protocol-Version header) get.
func TestLegacyClients(t *testing.T) {
	c := testServer(t, Options{})
	v := func(version string) map[string]string { return map[string]string{"MCP-Protocol-Version": version} }
	initialize := func(version string) string {
		return `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version + `","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	}
	call := func(id, tool, args string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
	}
	tests := []struct {
		name       string
		req        request
		wantStatus int
		check      func(t *testing.T, body []byte)
	}{
		{name: "initialize 2025-11-25", req: request{body: initialize("2025-11-25")}, wantStatus: 200, check: wantInitialize("2025-11-25")},
		{name: "initialize 2025-06-18", req: request{body: initialize("2025-06-18")}, wantStatus: 200, check: wantInitialize("2025-06-18")},
		{name: "initialize 2025-03-26", req: request{body: initialize("2025-03-26")}, wantStatus: 200, check: wantInitialize("2025-03-26")},
		{name: "initialize unknown version gets the newest legacy one", req: request{body: initialize("2024-01-01")}, wantStatus: 200, check: wantInitialize("2025-11-25")},
		{name: "initialize asking for 2026-07-28 gets 2025-11-25", req: request{body: initialize("2026-07-28")}, wantStatus: 200, check: wantInitialize("2025-11-25")},
		{name: "initialize without params", req: request{body: `{"jsonrpc":"2.0","id":1,"method":"initialize"}`}, wantStatus: 200, check: wantError(codeInvalidParams)},
		{name: "initialize as a notification", req: request{body: `{"jsonrpc":"2.0","method":"initialize"}`}, wantStatus: 202},
		{name: "notifications/initialized", req: request{hdr: v("2025-11-25"), body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`}, wantStatus: 202},
		{name: "tools/call 2025-11-25 without Mcp headers", req: request{hdr: v("2025-11-25"), body: call("1", "echo", `{"message":"hi"}`)}, wantStatus: 200, check: wantEcho("hi")},
		{name: "tools/call 2025-06-18", req: request{hdr: v("2025-06-18"), body: call("1", "echo", `{"message":"hi"}`)}, wantStatus: 200, check: wantEcho("hi")},
		{name: "tools/call without version header", req: request{body: call("1", "echo", `{"message":"hi"}`)}, wantStatus: 200, check: wantEcho("hi")},
		{name: "Mcp-Method is not checked before 2026-07-28", req: request{hdr: map[string]string{"MCP-Protocol-Version": "2025-11-25", "Mcp-Method": "ping"}, body: call("1", "echo", `{"message":"hi"}`)}, wantStatus: 200, check: wantEcho("hi")},
		{name: "tool argument error", req: request{hdr: v("2025-11-25"), body: call("1", "compute", `{"rounds":-1}`)}, wantStatus: 200, check: wantToolError},
		{name: "unknown tool", req: request{hdr: v("2025-11-25"), body: call("1", "nope", `{}`)}, wantStatus: 200, check: wantError(codeInvalidParams)},
		{name: "unknown method", req: request{hdr: v("2025-11-25"), body: `{"jsonrpc":"2.0","id":1,"method":"resources/list"}`}, wantStatus: 200, check: wantError(codeMethodNotFound)},
		{name: "server/discover without _meta", req: request{hdr: v("2025-11-25"), body: `{"jsonrpc":"2.0","id":1,"method":"server/discover"}`}, wantStatus: 200, check: wantError(codeMethodNotFound)},
		{name: "ping", req: request{hdr: v("2025-06-18"), body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 200, check: wantResult(`{}`)},
		{name: "tools/list", req: request{hdr: v("2025-11-25"), body: `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`}, wantStatus: 200, check: wantTools(false)},
		{name: "response from client is accepted", req: request{hdr: v("2025-11-25"), body: `{"jsonrpc":"2.0","id":1,"result":{}}`}, wantStatus: 202},
		{name: "parse error", req: request{hdr: v("2025-11-25"), body: `{`}, wantStatus: 400, check: wantError(codeParseError)},
		{name: "batch 2025-03-26", req: request{body: `[` + call("1", "echo", `{"message":"a"}`) + `,{"jsonrpc":"2.0","method":"notifications/initialized"},` + call(`"b"`, "nope", `{}`) + `,7]`}, wantStatus: 200, check: wantBatch(`1`, `"b"`, ``)},
		{name: "batch 2025-03-26 with header", req: request{hdr: v("2025-03-26"), body: `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`}, wantStatus: 200, check: wantBatch(`1`)},
		{name: "batch of notifications", req: request{body: `[{"jsonrpc":"2.0","method":"notifications/initialized"}]`}, wantStatus: 202},
		{name: "initialize in a batch", req: request{body: `[` + initialize("2025-03-26") + `]`}, wantStatus: 200, check: wantBatch(`0`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, c, tc.req)
			if got.status != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", got.status, tc.wantStatus, got.body)
			}
			if tc.wantStatus == 202 {
				if len(got.body) != 0 || len(got.header.Peek("Content-Type")) != 0 {
					t.Fatalf("202 with body %q / Content-Type %q", got.body, got.header.Peek("Content-Type"))
				}
				return
			}
			if got.header.Peek("Mcp-Session-Id") != nil {
				t.Errorf("a session id was issued")
			}
			tc.check(t, got.body)
		})
	}
}

func wantInitialize(version string) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		m := decodeRPC(t, b)
		var res struct {
			ProtocolVersion string                     `json:"protocolVersion"`
			Capabilities    map[string]json.RawMessage `json:"capabilities"`
			ServerInfo      struct{ Name, Version string }
		}
		if m.Error != nil || json.Unmarshal(m.Result, &res) != nil {
			t.Fatalf("initialize answered %s", b)
		}
		if res.ProtocolVersion != version || string(res.Capabilities["tools"]) != "{}" || len(res.Capabilities) != 1 ||
			res.ServerInfo.Name != ServerName || res.ServerInfo.Version != ServerVersion {
			t.Errorf("initialize result %s, want version %s, capabilities {tools:{}}, serverInfo %s", m.Result, version, ServerName)
		}
	}
}

func wantEcho(text string) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) { checkEcho(t, decodeRPC(t, b), text, false) }
}

func wantToolError(t *testing.T, b []byte) {
	m := decodeRPC(t, b)
	var res struct {
		Content []struct{ Type, Text string } `json:"content"`
		IsError bool                          `json:"isError"`
	}
	if m.Error != nil || json.Unmarshal(m.Result, &res) != nil || !res.IsError || len(res.Content) != 1 || !strings.Contains(res.Content[0].Text, "rounds") {
		t.Fatalf("want a tool error result about rounds, got %s", b)
	}
}

func wantError(code int) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		if m := decodeRPC(t, b); m.Error == nil || m.Error.Code != code {
			t.Fatalf("want error %d, got %s", code, b)
		}
	}
}

func wantResult(res string) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		if m := decodeRPC(t, b); m.Error != nil || string(m.Result) != res {
			t.Fatalf("want result %s, got %s", res, b)
		}
	}
}

func wantTools(modern bool) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		m := decodeRPC(t, b)
		var res struct {
			Tools []struct {
				Name        string          `json:"name"`
				InputSchema json.RawMessage `json:"inputSchema"`
			} `json:"tools"`
			TTL        *int   `json:"ttlMs"`
			CacheScope string `json:"cacheScope"`
			ResultType string `json:"resultType"`
		}
		if m.Error != nil || json.Unmarshal(m.Result, &res) != nil || len(res.Tools) != 4 || res.Tools[0].Name != "echo" {
			t.Fatalf("want the four tools, got %s", b)
		}
		if modern != (res.ResultType == "complete" && res.TTL != nil && res.CacheScope == "public") {
			t.Errorf("modern=%v but result has resultType %q ttlMs %v cacheScope %q", modern, res.ResultType, res.TTL, res.CacheScope)
		}
	}
}

// wantBatch checks a batch answer: one response per id, in order ("" for an
// element whose id could not be read).
func wantBatch(ids ...string) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil || len(raws) != len(ids) {
			t.Fatalf("want a batch of %d responses, got %s", len(ids), b)
		}
		for i, raw := range raws {
			if m := decodeRPC(t, raw); string(m.ID) != ids[i] {
				t.Errorf("response %d has id %s, want %q", i, m.ID, ids[i])
			}
		}
	}
}
