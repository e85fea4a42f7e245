package sdk

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
	"github.com/mcpbench/mcpbench/servers/internal/hostile"
)

const modernEcho = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},"name":"echo","arguments":{"message":"hi"}}}`

var modernHeaders = map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
	"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}

func serveSDK(t *testing.T, ln net.Listener, opts Options) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeHTTP(ctx, ln, opts) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestAuthBadTokens: the SDK server behind the shared middleware refuses
// every bad token of the table, stateless and with sessions.
func TestAuthBadTokens(t *testing.T) {
	for _, mode := range []string{"jwt", "jwt+cache", "introspect", "jwt+dpop", "jwt+cache+dpop", "introspect+dpop"} {
		t.Run(mode, func(t *testing.T) {
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			resource := "http://" + ln.Addr().String() + "/mcp"
			cfg := authtest.Config{Resource: resource}
			if strings.HasPrefix(mode, "introspect") {
				cfg.Tokens = "opaque"
			}
			env := authtest.New(t, cfg)
			v := env.Verifier(t, mode)
			serveSDK(t, ln, Options{Verifier: v, Resource: resource, Issuer: env.Issuer})
			do := authtest.Post(t, resource, modernEcho, modernHeaders)
			if strings.HasSuffix(mode, "+dpop") {
				authtest.RunDPoP(t, env, auth.MetadataURL(resource), resource, do)
			} else {
				authtest.Run(t, env, auth.MetadataURL(resource), do)
			}
		})
	}
}

func TestHostileInput(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	serveSDK(t, ln, Options{})
	url := "http://" + ln.Addr().String() + "/mcp"
	hostile.Run(t, hostile.Target{URL: url, Headers: modernHeaders, GoodBody: modernEcho})
}
