package fast

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/mcpbench/mcpbench/internal/jsonscan"
	"github.com/valyala/fasthttp"
)

// newCtx returns a RequestCtx holding a POST to /mcp with body and the MCP
// headers given (empty ones are left out).
func newCtx(body []byte, version, method, name string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/mcp")
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range map[string]string{"MCP-Protocol-Version": version, "Mcp-Method": method, "Mcp-Name": name} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	req.SetBody(body)
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	return ctx
}

// fuzzServer is one of the servers FuzzHandler tries every input on.
type fuzzServer struct {
	sse, fixtures bool
}

// FuzzHandler feeds arbitrary bodies and MCP headers to Handler: it must not
// panic, and must answer with 202 and no body, or with a JSON-RPC response
// (a batch of them for a 2025-03-26 batch), as JSON or as SSE events. With
// fixtures, a response may follow notifications in an SSE stream, whatever
// the Reply.
func FuzzHandler(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzHandler.
	servers := map[fuzzServer]*Server{}
	for _, fs := range []fuzzServer{{false, false}, {true, false}, {false, true}, {true, true}} {
		reply := "json"
		if fs.sse {
			reply = "sse"
		}
		s, err := New(Options{Reply: reply, MaxBody: 1 << 16, Fixtures: fs.fixtures})
		if err != nil {
			f.Fatal(err)
		}
		servers[fs] = s
	}
	f.Fuzz(func(t *testing.T, body []byte, version, method, name string) {
		if mentions(body, "sleep") {
			t.Skip("the sleep tool would stall the fuzzer")
		}
		for fs, s := range servers {
			sse := fs.sse || fs.fixtures
			ctx := newCtx(body, version, method, name)
			s.Handler(ctx)
			status, out := ctx.Response.StatusCode(), ctx.Response.Body()
			ct := string(ctx.Response.Header.ContentType())
			switch {
			case status == fasthttp.StatusAccepted:
				if len(out) != 0 {
					t.Fatalf("202 with a body %q", out)
				}
			case ct == "text/event-stream":
				if !sse || status != 200 {
					t.Fatalf("SSE reply with status %d from a server with sse=%v", status, sse)
				}
				events := parseSSE(t, out)
				for i, e := range events {
					if e.name != "message" {
						t.Fatalf("event %q", e.name)
					}
					if fs.fixtures && i < len(events)-1 && isNotification([]byte(e.data)) {
						checkNotification(t, []byte(e.data))
						continue
					}
					checkRPC(t, []byte(e.data))
				}
			case ct == "application/json":
				if !knownStatus(status) {
					t.Fatalf("status %d", status)
				}
				if bytes.HasPrefix(out, []byte("[")) {
					if status != 200 {
						t.Fatalf("batch reply with status %d", status)
					}
					var msgs []json.RawMessage
					if err := json.Unmarshal(out, &msgs); err != nil || len(msgs) == 0 {
						t.Fatalf("bad batch reply %q", out)
					}
					for _, m := range msgs {
						checkRPC(t, m)
					}
					continue
				}
				checkRPC(t, out)
			default:
				t.Fatalf("status %d with Content-Type %q: %q", status, ct, out)
			}
		}
	})
}

func knownStatus(s int) bool {
	switch s {
	case 200, 400, 403, 404, 405, 406, 413, 415, 500:
		return true
	}
	return false
}

// checkRPC fails unless b is one well-formed JSON-RPC 2.0 response.
func checkRPC(t *testing.T, b []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("reply is not a JSON object: %v: %q", err, b)
	}
	if string(m["jsonrpc"]) != `"2.0"` {
		t.Fatalf("reply without jsonrpc 2.0: %q", b)
	}
	_, hasResult := m["result"]
	errRaw, hasError := m["error"]
	if hasResult == hasError {
		t.Fatalf("reply needs exactly one of result and error: %q", b)
	}
	if id, ok := m["id"]; ok && !(id[0] == '"' || jsonscan.IsInteger(id)) {
		t.Fatalf("reply id %s", id)
	}
	if hasError {
		var e struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(errRaw, &e); err != nil || e.Code == nil || e.Message == nil {
			t.Fatalf("bad error object %s", errRaw)
		}
	} else if !bytes.HasPrefix(m["result"], []byte("{")) {
		t.Fatalf("result is not an object: %q", b)
	}
}

// isNotification reports whether b is a JSON object with a method and no
// id.
func isNotification(b []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	_, hasMethod := m["method"]
	_, hasID := m["id"]
	return hasMethod && !hasID
}

// checkNotification fails unless b is a JSON-RPC notification the server
// may send before a response: progress or a log message.
func checkNotification(t *testing.T, b []byte) {
	t.Helper()
	var n struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(b, &n); err != nil || n.JSONRPC != "2.0" || !bytes.HasPrefix(n.Params, []byte("{")) ||
		(n.Method != "notifications/progress" && n.Method != "notifications/message") {
		t.Fatalf("bad notification %q", b)
	}
}

// mentions reports whether the JSON text b holds the string s anywhere, as a
// key or a value, however escaped.
func mentions(b []byte, s string) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return v == s
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range v {
				if k == s || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
