package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"
)

// ScopeCall is the scope an MCP tools/call needs; other methods need a
// valid token and no scope beyond it.
const ScopeCall = "tools:call"

// DefaultScopes are what a client of an MCP server here should ask for.
var DefaultScopes = []string{"tools:read", ScopeCall}

var needCall = []string{ScopeCall}

// MCPScopes returns the scopes an MCP request needs, from its Mcp-Method
// header (2026-07-28 clients send it, and the servers check it against
// the body) or else from the JSON-RPC body itself. A batch needs what its
// most demanding call would: tools:call.
func MCPScopes(methodHeader string, body []byte) []string {
	if methodHeader != "" {
		if methodHeader == "tools/call" {
			return needCall
		}
		return nil
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) > 0 && b[0] == '[' {
		return needCall
	}
	var m struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(b, &m) != nil || m.Method == "tools/call" {
		return needCall // what cannot be read is held to the strictest rule; the server refuses it anyway
	}
	return nil
}

// MCPRequired is Options.Required for an MCP endpoint on net/http: it
// reads the body when the request has no Mcp-Method header, and puts it
// back for the handler.
func MCPRequired(r *http.Request) []string {
	if h := r.Header.Get("Mcp-Method"); h != "" || r.Body == nil {
		return MCPScopes(h, nil)
	}
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 1<<20))
	r.Body.Close()
	r.Body = readCloser{bytes.NewReader(buf.Bytes())}
	if err != nil {
		return needCall
	}
	return MCPScopes("", buf.Bytes())
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// FastMCPRequired is FastOptions.Required for an MCP endpoint on fasthttp.
func FastMCPRequired(ctx *fasthttp.RequestCtx) []string {
	return MCPScopes(strings.TrimSpace(string(ctx.Request.Header.Peek("Mcp-Method"))), ctx.PostBody())
}
