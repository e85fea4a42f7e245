package mcp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// sdkLegacy serves sdkServer over the legacy HTTP+SSE transport.
func sdkLegacy(tb testing.TB) string {
	s := sdkServer()
	srv := httptest.NewServer(gosdk.NewSSEHandler(func(*http.Request) *gosdk.Server { return s }, nil))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func TestMCPLegacySSE(t *testing.T) {
	for _, protocol := range []string{"", MCP20251125, "auto"} {
		t.Run("sdk "+protocol, func(t *testing.T) {
			checkCalls(t, Config{Transport: "sse", URL: sdkLegacy(t), Protocol: protocol})
		})
	}
}

// TestMCPLegacyCloseUnblocks: Conn.Close ends a call waiting for its
// response on the stream.
func TestMCPLegacyCloseUnblocks(t *testing.T) {
	d, err := New(Config{Transport: "sse", URL: sdkLegacy(t), Tool: "block", Arguments: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Open(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	checkUnblocks(t, c, func() { c.Close() })
}

// TestMCPLegacySetupFails: a stream that names a foreign endpoint, ends
// without one, never sends one, or is refused fails Open.
func TestMCPLegacySetupFails(t *testing.T) {
	for _, tc := range []struct {
		name, stream, want string
		status             int
	}{
		{"foreign endpoint", "event: endpoint\ndata: http://elsewhere.example/post\n\n", "want a URL on", 200},
		{"no endpoint", ": nothing\n\n", "ended before its endpoint", 200},
		{"silent", "", "no endpoint event", 200},
		{"refused", "", "HTTP 401", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.stream)
				w.(http.Flusher).Flush()
				if tc.name == "silent" {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				}
			}))
			defer srv.Close()
			d, err := New(Config{Transport: "sse", URL: srv.URL, Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Open(context.Background(), 0); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func BenchmarkMCPLegacySSEEcho(b *testing.B) {
	benchConn(b, Config{Transport: "sse", URL: sdkLegacy(b)})
}
