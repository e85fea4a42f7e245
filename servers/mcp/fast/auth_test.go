package fast

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
)

// serveAuth runs Serve with a verifier for resource on a loopback port
// taken from ln.
func serveAuth(t *testing.T, ln net.Listener, v auth.Verifier, resource, issuer string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Options{Verifier: v, Resource: resource, Issuer: issuer}) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestAuthBadTokens: the fast server as a resource server refuses every
// bad token of the shared table, with the right status and challenge.
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
			serveAuth(t, ln, v, resource, env.Issuer)
			headers := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
			for k, val := range modernHdr("tools/call", "echo") {
				headers[k] = val
			}
			do := authtest.Post(t, resource, echoCall("1", `"hi"`), headers)
			if strings.HasSuffix(mode, "+dpop") {
				authtest.RunDPoP(t, env, auth.MetadataURL(resource), resource, do)
			} else {
				authtest.Run(t, env, auth.MetadataURL(resource), do)
			}
			// The metadata is public.
			resp, err := http.Get(auth.MetadataURL(resource))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("metadata: %v %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}
