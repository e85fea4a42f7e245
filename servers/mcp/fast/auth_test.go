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
	for _, mode := range []string{"jwt", "jwt+cache", "introspect"} {
		t.Run(mode, func(t *testing.T) {
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			resource := "http://" + ln.Addr().String() + "/mcp"
			cfg := authtest.Config{Resource: resource}
			if mode == "introspect" {
				cfg.Tokens = "opaque"
			}
			env := authtest.New(t, cfg)
			v := env.Verifier(t, mode)
			serveAuth(t, ln, v, resource, env.Issuer)
			authtest.Run(t, env, auth.MetadataURL(resource), func(r authtest.Request) authtest.Answer {
				u := resource
				if r.QueryToken != "" {
					u += "?access_token=" + r.QueryToken
				}
				req, _ := http.NewRequest("POST", u, strings.NewReader(echoCall("1", `"hi"`)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				for k, val := range modernHdr("tools/call", "echo") {
					req.Header.Set(k, val)
				}
				for _, a := range r.Authorization {
					req.Header.Add("Authorization", a)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return authtest.Answer{Status: resp.StatusCode, WWWAuthenticate: resp.Header.Get("WWW-Authenticate")}
			})
			// The metadata is public.
			resp, err := http.Get(auth.MetadataURL(resource))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("metadata: %v %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}
