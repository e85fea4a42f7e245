package mcp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// nodeLike answers as the TypeScript SDK's Streamable HTTP server does in
// stateful mode (what @modelcontextprotocol/server-everything runs), and a
// little worse: header names in lower case, every reply an SSE stream that
// opens with a priming event (an id and an empty data line), comments and
// retry fields, a notification before the response, the response's JSON
// split over two data lines; server/discover refused with 400 and a
// JSON-RPC error; a request without a known session refused as the SDK
// does. Every rotate-th call it moves the session to a new id (sent in the
// reply's mcp-session-id) and forgets the old one.
type nodeLike struct {
	rotate   int
	discover int // the status server/discover gets; 0: 400, as the SDK's

	mu       sync.Mutex
	sessions map[string]bool
	n, moved int
	deleted  int
}

func (s *nodeLike) serve(t *testing.T) string {
	s.sessions = map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

func (s *nodeLike) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sid := r.Header.Get("Mcp-Session-Id")
	if r.Method == http.MethodDelete {
		if s.sessions[sid] {
			delete(s.sessions, sid)
			s.deleted++
		}
		return
	}
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &m)
	refuse := func(status int, msg string) {
		lowerType(w, "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"jsonrpc":"2.0","error":{"code":-32000,"message":%q},"id":null}`, msg)
	}
	switch {
	case m.Method == "initialize":
		sid = fmt.Sprintf("s-%d", len(s.sessions)+s.deleted+s.moved)
		s.sessions[sid] = true
		w.Header()["mcp-session-id"] = []string{sid}
		s.stream(w, m.ID, `{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"node-like","version":"1"}}`, false)
		return
	case m.Method == "server/discover" && s.discover != 0:
		refuse(s.discover, "Method not found")
		return
	case sid == "" || m.Method == "server/discover":
		refuse(http.StatusBadRequest, "Bad Request: Server not initialized")
		return
	case !s.sessions[sid]:
		refuse(http.StatusNotFound, "Session not found")
		return
	case m.Method == "notifications/initialized":
		w.WriteHeader(http.StatusAccepted)
		return
	}
	s.n++
	if s.rotate > 0 && s.n%s.rotate == 0 {
		delete(s.sessions, sid)
		s.moved++
		sid = fmt.Sprintf("moved-%d", s.moved)
		s.sessions[sid] = true
		w.Header()["mcp-session-id"] = []string{sid}
	}
	s.stream(w, m.ID, `{"content":[{"type":"text","text":"hello"}]}`, true)
}

// stream writes the reply as the SDK does, with the extras above.
func (s *nodeLike) stream(w http.ResponseWriter, id json.RawMessage, result string, notify bool) {
	lowerType(w, "text/event-stream")
	w.Header()["cache-control"] = []string{"no-cache"}
	var b strings.Builder
	b.WriteString(": a comment\nid: prime-1\ndata: \n\nretry: 1000\n\n")
	if notify {
		b.WriteString("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n")
	}
	fmt.Fprintf(&b, "event: message\nid: e-1\ndata: {\"result\":%s,\ndata: \"jsonrpc\":\"2.0\",\"id\":%s}\n\n", result, id)
	io.WriteString(w, b.String())
}

// TestMCPNodeLikeServer: the driver talks to a server that answers as the
// TypeScript SDK's does, in lower case and in SSE, with protocol auto
// (server/discover refused, so initialize) and with a session protocol,
// and follows the session when the server moves it.
func TestMCPNodeLikeServer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		protocol string
		rotate   int
		discover int
	}{
		{"auto", "auto", 0, 0},
		{"auto, discover 404", "auto", 0, http.StatusNotFound},
		{"auto, discover 405", "auto", 0, http.StatusMethodNotAllowed},
		{"2025-11-25", MCP20251125, 0, 0},
		{"session moved every 7th call", MCP20251125, 7, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &nodeLike{rotate: tc.rotate, discover: tc.discover}
			url := s.serve(t)
			res := runMCP(t, Config{URL: url, Protocol: tc.protocol}, 100)
			if a := res.Accounting; a.OK != 100 || a.Errors != 0 {
				t.Errorf("%d ok, %d errors (%v), want 100 ok", a.OK, a.Errors, a.ByCode)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if tc.rotate > 0 && s.moved == 0 {
				t.Error("the server never moved a session")
			}
			if len(s.sessions) != 0 {
				t.Errorf("%d sessions left open (%d deleted): Close must DELETE the current one", len(s.sessions), s.deleted)
			}
		})
	}
}

// lowerType sets the content type under a lower-case name. The canonical
// key, present and empty, keeps net/http from sniffing and adding one.
func lowerType(w http.ResponseWriter, ct string) {
	w.Header()["Content-Type"] = nil
	w.Header()["content-type"] = []string{ct}
}
