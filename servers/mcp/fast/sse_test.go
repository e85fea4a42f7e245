package fast

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// parseSSE reads a text/event-stream body by the WHATWG rules the clients
// use: fields per line, an empty line ends an event, data lines join with
// "\n". It fails on anything a strict reader would not take from us.
func parseSSE(t testing.TB, body []byte) []sseEvent {
	t.Helper()
	var events []sseEvent
	var cur sseEvent
	var data []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if data == nil {
				t.Fatalf("an event without data in %q", body)
			}
			cur.data = strings.Join(data, "\n")
			events = append(events, cur)
			cur, data = sseEvent{}, nil
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			cur.name = value
		case "data":
			data = append(data, value)
		default:
			t.Fatalf("unexpected SSE field %q in %q", field, body)
		}
	}
	if data != nil || cur.name != "" {
		t.Fatalf("SSE stream ends inside an event: %q", body)
	}
	return events
}

func TestSSEReplies(t *testing.T) {
	c := testServer(t, Options{Reply: "sse"})

	t.Run("tools/call", func(t *testing.T) {
		msg := "line one\nline two\r\n\u2028 \"quoted\" é \x01"
		m, _ := json.Marshal(msg)
		got := do(t, c, request{hdr: modernHdr("tools/call", "echo"), body: echoCall("1", string(m))})
		if got.status != 200 || string(got.header.ContentType()) != "text/event-stream" {
			t.Fatalf("status %d, Content-Type %q", got.status, got.header.ContentType())
		}
		if string(got.header.Peek("Cache-Control")) != "no-cache" || string(got.header.Peek("X-Accel-Buffering")) != "no" {
			t.Errorf("SSE headers: Cache-Control %q, X-Accel-Buffering %q", got.header.Peek("Cache-Control"), got.header.Peek("X-Accel-Buffering"))
		}
		events := parseSSE(t, got.body)
		if len(events) != 1 || events[0].name != "message" {
			t.Fatalf("events %+v, want one message event", events)
		}
		checkEcho(t, decodeRPC(t, []byte(events[0].data)), msg, true)
	})

	t.Run("server/discover", func(t *testing.T) {
		got := do(t, c, request{hdr: modernHdr("server/discover", ""), body: `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + meta + `}}`})
		events := parseSSE(t, got.body)
		if len(events) != 1 {
			t.Fatalf("events %+v", events)
		}
		var res struct {
			SupportedVersions []string                   `json:"supportedVersions"`
			Capabilities      map[string]json.RawMessage `json:"capabilities"`
			TTL               *int                       `json:"ttlMs"`
			CacheScope        string                     `json:"cacheScope"`
			ResultType        string                     `json:"resultType"`
			Meta              map[string]json.RawMessage `json:"_meta"`
		}
		m := decodeRPC(t, []byte(events[0].data))
		if err := json.Unmarshal(m.Result, &res); err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.SupportedVersions, ",") != "2026-07-28,2025-11-25,2025-06-18,2025-03-26" ||
			string(res.Capabilities["tools"]) != "{}" || res.TTL == nil || res.CacheScope != "public" ||
			res.ResultType != "complete" || res.Meta["io.modelcontextprotocol/serverInfo"] == nil {
			t.Errorf("discover result %s", m.Result)
		}
	})

	t.Run("tools/list", func(t *testing.T) {
		got := do(t, c, request{hdr: modernHdr("tools/list", ""), body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `}}`})
		events := parseSSE(t, got.body)
		if len(events) != 1 {
			t.Fatalf("events %+v", events)
		}
		wantTools(true)(t, []byte(events[0].data))
	})

	t.Run("legacy error stays in the stream", func(t *testing.T) {
		got := do(t, c, request{hdr: map[string]string{"MCP-Protocol-Version": "2025-11-25"}, body: `{"jsonrpc":"2.0","id":1,"method":"nope"}`})
		events := parseSSE(t, got.body)
		if got.status != 200 || len(events) != 1 {
			t.Fatalf("status %d, events %+v", got.status, events)
		}
		wantError(codeMethodNotFound)(t, []byte(events[0].data))
	})

	t.Run("error with a status is JSON", func(t *testing.T) {
		got := do(t, c, request{hdr: modernHdr("tools/call", "compute"), body: echoCall("1", `"x"`)})
		if got.status != 400 || string(got.header.ContentType()) != "application/json" {
			t.Fatalf("status %d, Content-Type %q", got.status, got.header.ContentType())
		}
		wantError(codeHeaderMismatch)(t, got.body)
	})

	t.Run("batch is one event per response", func(t *testing.T) {
		got := do(t, c, request{body: `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`})
		events := parseSSE(t, got.body)
		if got.status != 200 || len(events) != 2 {
			t.Fatalf("status %d, events %+v", got.status, events)
		}
		for i, e := range events {
			if m := decodeRPC(t, []byte(e.data)); string(m.ID) != []string{"1", "2"}[i] {
				t.Errorf("event %d is for id %s", i, m.ID)
			}
		}
	})
}
