package fast

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// testServer runs Serve on an in-memory listener and returns a client for it.
func testServer(t testing.TB, opts Options) *fasthttp.Client {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(ShutdownGrace + time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
}

// request is one HTTP request in a test; zero fields take the defaults of a
// good 2026-07-28 request.
type request struct {
	method string            // HTTP method; "" = POST
	path   string            // "" = /mcp
	hdr    map[string]string // headers; a value "-" removes a default header
	body   string
}

// response is what came back.
type response struct {
	status int
	header *fasthttp.ResponseHeader
	body   []byte
}

func do(t testing.TB, c *fasthttp.Client, r request) response {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://mcp.test" + or(r.path, "/mcp"))
	req.Header.SetMethod(or(r.method, "POST"))
	req.Header.SetNoDefaultContentType(true)
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	for k, v := range r.hdr {
		hdr[k] = v
	}
	for k, v := range hdr {
		if v == "-" {
			continue
		}
		if k == "Content-Type" {
			req.Header.SetContentType(v)
			continue
		}
		req.Header.Set(k, v)
	}
	req.SetBodyString(r.body)
	if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatalf("%s %s: %v", req.Header.Method(), req.URI(), err)
	}
	out := response{status: resp.StatusCode(), header: &fasthttp.ResponseHeader{}, body: append([]byte(nil), resp.Body()...)}
	resp.Header.CopyTo(out.header)
	out.header.SetNoDefaultContentType(true) // report what came on the wire
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

// modernHdr returns the headers of a 2026-07-28 request.
func modernHdr(method, name string, extra ...string) map[string]string {
	h := map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
	if name != "" {
		h["Mcp-Name"] = name
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func echoCall(id, message string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{` + meta + `,"name":"echo","arguments":{"message":` + message + `}}}`
}

// goodCall is a 2026-07-28 tools/call echo that must always succeed.
var goodCall = request{hdr: modernHdr("tools/call", "echo"), body: echoCall("99", `"still alive"`)}

// rpcMessage is a decoded JSON-RPC response.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// decodeRPC checks that b is one JSON-RPC response and returns it.
func decodeRPC(t testing.TB, b []byte) rpcMessage {
	t.Helper()
	var m rpcMessage
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not a JSON-RPC response: %v\n%s", err, b)
	}
	if m.JSONRPC != "2.0" || (m.Result == nil) == (m.Error == nil) {
		t.Fatalf("not a JSON-RPC response (need jsonrpc 2.0 and one of result, error):\n%s", b)
	}
	if m.Error != nil && m.Error.Message == "" {
		t.Fatalf("error without message:\n%s", b)
	}
	return m
}

// checkEcho checks a tools/call echo result; modern results carry
// resultType and serverInfo.
func checkEcho(t testing.TB, m rpcMessage, want string, modern bool) {
	t.Helper()
	if m.Error != nil {
		t.Fatalf("error %d %s, want result", m.Error.Code, m.Error.Message)
	}
	var res struct {
		Content []struct {
			Type, Text string
		} `json:"content"`
		IsError    bool   `json:"isError"`
		ResultType string `json:"resultType"`
		Meta       struct {
			ServerInfo struct{ Name, Version string } `json:"io.modelcontextprotocol/serverInfo"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Content) != 1 || res.Content[0].Type != "text" || res.Content[0].Text != want || res.IsError {
		t.Fatalf("result %s, want text %q", m.Result, want)
	}
	if modern && (res.ResultType != "complete" || res.Meta.ServerInfo.Name != ServerName) {
		t.Fatalf("2026-07-28 result %s lacks resultType complete or serverInfo", m.Result)
	}
	if !modern && res.ResultType != "" {
		t.Fatalf("legacy result %s has a resultType", m.Result)
	}
}

// TestBadRequests sends every kind of bad request and checks the answer,
// then checks that a good call on the same client still works.
func TestBadRequests(t *testing.T) {
	c := testServer(t, Options{MaxBody: 4096})
	big := echoCall("1", `"`+strings.Repeat("x", 5000)+`"`)
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantCode   int    // 0: a result
		wantID     string // "" = no id member
		wantHeader [2]string
	}{
		{name: "malformed JSON", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":1,`}, wantStatus: 400, wantCode: codeParseError},
		{name: "invalid UTF-8", req: request{hdr: modernHdr("tools/call", "echo"), body: echoCall(`"\xff"`, `"x"`)}, wantStatus: 400, wantCode: codeParseError},
		{name: "empty body", req: request{hdr: modernHdr("tools/call", "echo")}, wantStatus: 400, wantCode: codeParseError},
		{name: "not an object", req: request{hdr: modernHdr("tools/call", "echo"), body: `42`}, wantStatus: 400, wantCode: codeInvalidRequest},
		{name: "wrong jsonrpc version", req: request{hdr: modernHdr("tools/call", "echo"), body: strings.Replace(echoCall("1", `"x"`), `"2.0"`, `"1.0"`, 1)}, wantStatus: 400, wantCode: codeInvalidRequest, wantID: "1"},
		{name: "missing jsonrpc", req: request{hdr: modernHdr("tools/call", "echo"), body: strings.Replace(echoCall("1", `"x"`), `"jsonrpc":"2.0",`, ``, 1)}, wantStatus: 400, wantCode: codeInvalidRequest, wantID: "1"},
		{name: "null id", req: request{hdr: modernHdr("tools/call", "echo"), body: echoCall("null", `"x"`)}, wantStatus: 400, wantCode: codeInvalidRequest},
		{name: "fractional id", req: request{hdr: modernHdr("tools/call", "echo"), body: echoCall("1.5", `"x"`)}, wantStatus: 400, wantCode: codeInvalidRequest},
		{name: "object id", req: request{hdr: modernHdr("tools/call", "echo"), body: echoCall("{}", `"x"`)}, wantStatus: 400, wantCode: codeInvalidRequest},
		{name: "method not a string", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":1,"method":7}`}, wantStatus: 400, wantCode: codeInvalidRequest, wantID: "1"},
		{name: "no method", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":1}`}, wantStatus: 400, wantCode: codeInvalidRequest, wantID: "1"},
		{name: "duplicate member", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call"}`}, wantStatus: 400, wantCode: codeInvalidRequest, wantID: "1"},
		{name: "response sent by client", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":1,"result":{}}`}, wantStatus: 400, wantCode: codeInvalidRequest, wantID: "1"},
		{name: "unknown method", req: request{hdr: modernHdr("tools/frob", ""), body: `{"jsonrpc":"2.0","id":"a","method":"tools/frob","params":{` + meta + `}}`}, wantStatus: 404, wantCode: codeMethodNotFound, wantID: `"a"`},
		{name: "initialize is gone in 2026-07-28", req: request{hdr: modernHdr("initialize", ""), body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{` + meta + `,"protocolVersion":"2026-07-28"}}`}, wantStatus: 404, wantCode: codeMethodNotFound, wantID: "1"},
		{name: "ping is gone in 2026-07-28", req: request{hdr: modernHdr("ping", ""), body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{` + meta + `}}`}, wantStatus: 404, wantCode: codeMethodNotFound, wantID: "1"},
		{name: "unknown tool", req: request{hdr: modernHdr("tools/call", "nope"), body: strings.Replace(echoCall("2", `"x"`), `"echo"`, `"nope"`, 1)}, wantStatus: 400, wantCode: codeInvalidParams, wantID: "2"},
		{name: "params not an object", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]}`}, wantStatus: 400, wantCode: codeInvalidParams, wantID: "1"},
		{name: "tool name missing", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{` + meta + `}}`}, wantStatus: 400, wantCode: codeInvalidParams, wantID: "1"},
		{name: "unknown cursor", req: request{hdr: modernHdr("tools/list", ""), body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `,"cursor":"x"}}`}, wantStatus: 400, wantCode: codeInvalidParams, wantID: "1"},
		{name: "Mcp-Method mismatch", req: request{hdr: modernHdr("tools/list", "echo"), body: echoCall("3", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "3"},
		{name: "Mcp-Method missing", req: request{hdr: modernHdr("tools/call", "echo", "Mcp-Method", "-"), body: echoCall("3", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "3"},
		{name: "Mcp-Method differs in case", req: request{hdr: modernHdr("Tools/Call", "echo"), body: echoCall("3", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "3"},
		{name: "Mcp-Name mismatch", req: request{hdr: modernHdr("tools/call", "compute"), body: echoCall("4", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "4"},
		{name: "Mcp-Name missing", req: request{hdr: modernHdr("tools/call", ""), body: echoCall("4", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "4"},
		{name: "Mcp-Name bad base64", req: request{hdr: modernHdr("tools/call", "=?base64?!!!?="), body: echoCall("4", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "4"},
		{name: "Mcp-Name base64 of another name", req: request{hdr: modernHdr("tools/call", "=?base64?c2xlZXA=?="), body: echoCall("4", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "4"},
		{name: "protocol version header missing", req: request{hdr: modernHdr("tools/call", "echo", "MCP-Protocol-Version", "-"), body: echoCall("5", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "5"},
		{name: "protocol version header unsupported", req: request{hdr: modernHdr("tools/call", "echo", "MCP-Protocol-Version", "2099-01-01"), body: echoCall("5", `"x"`)}, wantStatus: 400, wantCode: codeUnsupportedVersion, wantID: "5"},
		{name: "protocol version header differs from _meta", req: request{hdr: modernHdr("tools/call", "echo", "MCP-Protocol-Version", "2025-11-25"), body: echoCall("5", `"x"`)}, wantStatus: 400, wantCode: codeHeaderMismatch, wantID: "5"},
		{name: "_meta protocolVersion missing", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}`}, wantStatus: 400, wantCode: codeInvalidParams, wantID: "6"},
		{name: "_meta clientCapabilities missing", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"echo","arguments":{"message":"x"}}}`}, wantStatus: 400, wantCode: codeInvalidParams, wantID: "6"},
		{name: "_meta key differs in case", req: request{hdr: modernHdr("tools/call", "echo"), body: strings.Replace(echoCall("6", `"x"`), "clientCapabilities", "ClientCapabilities", 1)}, wantStatus: 400, wantCode: codeInvalidParams, wantID: "6"},
		{name: "batch in 2026-07-28", req: request{hdr: modernHdr("tools/call", "echo"), body: "[" + echoCall("7", `"x"`) + "]"}, wantStatus: 400, wantCode: codeInvalidRequest},
		{name: "batch in 2025-06-18", req: request{hdr: map[string]string{"MCP-Protocol-Version": "2025-06-18"}, body: `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`}, wantStatus: 400, wantCode: codeInvalidRequest},
		{name: "empty batch", req: request{body: `[]`}, wantStatus: 400, wantCode: codeInvalidRequest},
		{name: "oversized body", req: request{hdr: modernHdr("tools/call", "echo"), body: big}, wantStatus: 413, wantCode: codeInvalidRequest},
		{name: "wrong Content-Type", req: request{hdr: modernHdr("tools/call", "echo", "Content-Type", "text/plain"), body: echoCall("8", `"x"`)}, wantStatus: 415, wantCode: codeInvalidRequest},
		{name: "Content-Type missing", req: request{hdr: modernHdr("tools/call", "echo", "Content-Type", "-"), body: echoCall("8", `"x"`)}, wantStatus: 415, wantCode: codeInvalidRequest},
		{name: "Content-Type with another charset", req: request{hdr: modernHdr("tools/call", "echo", "Content-Type", "application/json; charset=latin1"), body: echoCall("8", `"x"`)}, wantStatus: 415, wantCode: codeInvalidRequest},
		{name: "compressed body", req: request{hdr: modernHdr("tools/call", "echo", "Content-Encoding", "gzip"), body: echoCall("8", `"x"`)}, wantStatus: 415, wantCode: codeInvalidRequest},
		{name: "Accept lacks text/event-stream", req: request{hdr: modernHdr("tools/call", "echo", "Accept", "application/json"), body: echoCall("8", `"x"`)}, wantStatus: 406, wantCode: codeInvalidRequest},
		{name: "Accept missing", req: request{hdr: modernHdr("tools/call", "echo", "Accept", "-"), body: echoCall("8", `"x"`)}, wantStatus: 406, wantCode: codeInvalidRequest},
		{name: "Accept refuses event-stream with q=0", req: request{hdr: modernHdr("tools/call", "echo", "Accept", "*/*, text/event-stream;q=0"), body: echoCall("8", `"x"`)}, wantStatus: 406, wantCode: codeInvalidRequest},
		{name: "bad Origin", req: request{hdr: modernHdr("tools/call", "echo", "Origin", "https://evil.example"), body: echoCall("9", `"x"`)}, wantStatus: 403, wantCode: codeInvalidRequest},
		{name: "null Origin", req: request{hdr: modernHdr("tools/call", "echo", "Origin", "null"), body: echoCall("9", `"x"`)}, wantStatus: 403, wantCode: codeInvalidRequest},
		{name: "localhost look-alike Origin", req: request{hdr: modernHdr("tools/call", "echo", "Origin", "http://localhost.evil.example"), body: echoCall("9", `"x"`)}, wantStatus: 403, wantCode: codeInvalidRequest},
		{name: "GET", req: request{method: "GET", hdr: map[string]string{"Accept": "text/event-stream", "Content-Type": "-"}}, wantStatus: 405, wantCode: codeInvalidRequest, wantHeader: [2]string{"Allow", "POST"}},
		{name: "DELETE", req: request{method: "DELETE", hdr: map[string]string{"Mcp-Session-Id": "abc", "Content-Type": "-"}}, wantStatus: 405, wantCode: codeInvalidRequest, wantHeader: [2]string{"Allow", "POST"}},
		{name: "other path", req: request{path: "/other", hdr: modernHdr("tools/call", "echo"), body: echoCall("9", `"x"`)}, wantStatus: 404, wantCode: codeInvalidRequest},
		{name: "notification", req: request{hdr: modernHdr("notifications/cancelled", ""), body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`}, wantStatus: 202},
		{name: "notification with lying Mcp-Method", req: request{hdr: modernHdr("tools/call", ""), body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`}, wantStatus: 400, wantCode: codeHeaderMismatch},
		{name: "notification with unsupported version", req: request{hdr: map[string]string{"MCP-Protocol-Version": "1999-01-01"}, body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`}, wantStatus: 400, wantCode: codeUnsupportedVersion},

		// Good requests that look odd.
		{name: "Accept */*", req: request{hdr: modernHdr("tools/call", "echo", "Accept", "*/*"), body: echoCall("10", `"x"`)}, wantStatus: 200, wantID: "10"},
		{name: "Accept as two headers' worth of wildcards", req: request{hdr: modernHdr("tools/call", "echo", "Accept", "application/*;q=0.5, text/*"), body: echoCall("10", `"x"`)}, wantStatus: 200, wantID: "10"},
		{name: "Content-Type with charset", req: request{hdr: modernHdr("tools/call", "echo", "Content-Type", "Application/JSON; charset=UTF-8"), body: echoCall("10", `"x"`)}, wantStatus: 200, wantID: "10"},
		{name: "loopback Origin", req: request{hdr: modernHdr("tools/call", "echo", "Origin", "http://localhost:6274"), body: echoCall("10", `"x"`)}, wantStatus: 200, wantID: "10"},
		{name: "IPv6 loopback Origin", req: request{hdr: modernHdr("tools/call", "echo", "Origin", "https://[::1]:8443"), body: echoCall("10", `"x"`)}, wantStatus: 200, wantID: "10"},
		{name: "Mcp-Name in base64", req: request{hdr: modernHdr("tools/call", "=?base64?ZWNobw==?="), body: echoCall("10", `"x"`)}, wantStatus: 200, wantID: "10"},
		{name: "string id", req: request{hdr: modernHdr("tools/call", "echo"), body: echoCall(`"req-1"`, `"x"`)}, wantStatus: 200, wantID: `"req-1"`},
		{name: "tool argument error is a result", req: request{hdr: modernHdr("tools/call", "echo"), body: `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{` + meta + `,"name":"echo","arguments":{}}}`}, wantStatus: 200, wantID: "11"},
		{name: "session id and Last-Event-ID are ignored", req: request{hdr: modernHdr("tools/call", "echo", "Mcp-Session-Id", "s", "Last-Event-ID", "e"), body: echoCall("12", `"x"`)}, wantStatus: 200, wantID: "12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, c, tc.req)
			if got.status != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", got.status, tc.wantStatus, got.body)
			}
			if k := tc.wantHeader[0]; k != "" && string(got.header.Peek(k)) != tc.wantHeader[1] {
				t.Errorf("%s: %q, want %q", k, got.header.Peek(k), tc.wantHeader[1])
			}
			if tc.wantStatus == 202 {
				if len(got.body) != 0 {
					t.Errorf("202 with body %s", got.body)
				}
			} else {
				if ct := string(got.header.ContentType()); ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				m := decodeRPC(t, got.body)
				switch {
				case tc.wantCode == 0 && m.Error != nil:
					t.Errorf("error %d %q, want a result", m.Error.Code, m.Error.Message)
				case tc.wantCode != 0 && (m.Error == nil || m.Error.Code != tc.wantCode):
					t.Errorf("answer %s, want error code %d", got.body, tc.wantCode)
				}
				if string(m.ID) != tc.wantID {
					t.Errorf("id %s, want %q", m.ID, tc.wantID)
				}
				if tc.wantCode == codeUnsupportedVersion {
					var data struct {
						Supported []string `json:"supported"`
						Requested string   `json:"requested"`
					}
					if err := json.Unmarshal(m.Error.Data, &data); err != nil || len(data.Supported) != len(supportedVersions) || data.Requested == "" {
						t.Errorf("UnsupportedProtocolVersion data %s (%v)", m.Error.Data, err)
					}
				}
			}
			after := do(t, c, goodCall)
			if after.status != 200 {
				t.Fatalf("good call after: status %d, body %s", after.status, after.body)
			}
			checkEcho(t, decodeRPC(t, after.body), "still alive", true)
		})
	}
}

// TestSpinBurnsCPU checks the calibration knob: a tools/call with Spin set
// burns CPU for Spin (a busy loop, not a sleep, which would burn next to
// none). The loop runs on the wall clock, so a busy machine that preempts
// it gives it less CPU than Spin: the check asks for half.
func TestSpinBurnsCPU(t *testing.T) {
	const spin, calls = 5 * time.Millisecond, 20
	c := testServer(t, Options{Spin: spin})
	before := processCPU(t)
	for i := 0; i < calls; i++ {
		r := do(t, c, goodCall)
		if r.status != 200 {
			t.Fatalf("call %d: status %d: %s", i, r.status, r.body)
		}
	}
	if got := processCPU(t) - before; got < calls*spin/2 {
		t.Errorf("%d calls with Spin %v used %v of CPU; want at least %v", calls, spin, got, calls*spin/2)
	}
	if _, err := New(Options{Spin: -time.Microsecond}); err == nil {
		t.Error("New accepted a negative Spin")
	}
}

func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
