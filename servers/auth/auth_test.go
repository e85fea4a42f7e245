package auth_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/valyala/fasthttp"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
)

const resource = "http://127.0.0.1:7000/mcp"

func callScopes(*http.Request) []string { return []string{"tools:call"} }

// verifiers builds each verifier configuration the servers offer.
func verifiers(t *testing.T, env *authtest.Env, mode string) map[string]auth.Verifier {
	t.Helper()
	return map[string]auth.Verifier{mode: env.Verifier(t, mode), mode + "+cache": env.Verifier(t, mode+"+cache")}
}

func doHTTP(t *testing.T, url string) func(authtest.Request) authtest.Answer {
	return authtest.Post(t, url, `{}`, nil)
}

func TestBadTokensNetHTTP(t *testing.T) {
	for _, cfg := range []authtest.Config{{Tokens: "jwt"}, {Tokens: "opaque"}, {Tokens: "jwt", Alg: "ES256"}, {Tokens: "jwt", Alg: "EdDSA"}} {
		modes := []string{"jwt", "introspect"}
		if cfg.Tokens == "opaque" {
			modes = []string{"introspect"}
		}
		for _, mode := range modes {
			cfg.Resource = resource
			env := authtest.New(t, cfg)
			for name, v := range verifiers(t, env, mode) {
				t.Run(cfg.Tokens+"-"+cfg.Alg+"/"+name, func(t *testing.T) {
					meta := auth.MetadataURL(resource)
					var seen *auth.Info
					h := auth.Middleware(v, auth.Options{ResourceMetadataURL: meta, Scopes: []string{"tools:read", "tools:call"}, Required: callScopes})(
						http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							if r.Header.Get("Authorization") != "" {
								t.Error("the token was passed on to the protected handler")
							}
							seen = auth.InfoFromContext(r.Context())
						}))
					srv := httptest.NewServer(h)
					defer srv.Close()
					authtest.Run(t, env, meta, doHTTP(t, srv.URL))
					if seen == nil || seen.ClientID != authtest.ClientID || seen.Subject != authtest.ClientID {
						t.Errorf("the handler saw token info %+v", seen)
					}
				})
			}
		}
	}
}

func TestBadTokensFastHTTP(t *testing.T) {
	env := authtest.New(t, authtest.Config{Resource: resource})
	for name, v := range verifiers(t, env, "jwt") {
		t.Run(name, func(t *testing.T) {
			meta := auth.MetadataURL(resource)
			h := auth.FastMiddleware(v, auth.FastOptions{ResourceMetadataURL: meta, Required: func(*fasthttp.RequestCtx) []string { return []string{"tools:call"} }},
				func(ctx *fasthttp.RequestCtx) {
					if len(ctx.Request.Header.Peek("Authorization")) != 0 {
						t.Error("the token was passed on")
					}
					if auth.FastInfo(ctx) == nil {
						t.Error("no token info")
					}
				})
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			s := &fasthttp.Server{Handler: h, ReadBufferSize: 16 << 10}
			go s.Serve(ln)
			defer s.Shutdown()
			authtest.Run(t, env, meta, doHTTP(t, "http://"+ln.Addr().String()+"/mcp"))
		})
	}
}

// The go-sdk's own middleware with our verifier: it refuses the same
// tokens, with its coarser answers (401 for everything, no error code).
func TestSDKVerifier(t *testing.T) {
	env := authtest.New(t, authtest.Config{Resource: resource})
	v := verifiers(t, env, "jwt")["jwt"]
	h := sdkauth.RequireBearerToken(auth.SDKVerifier(v), &sdkauth.RequireBearerTokenOptions{ResourceMetadataURL: auth.MetadataURL(resource)})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := doHTTP(t, srv.URL)
	accepted := 0
	for _, c := range env.Cases(t) {
		if c.QueryToken != "" || len(c.Authorization) > 1 || c.Status == 403 {
			continue // the SDK's middleware does not look at these
		}
		if a := do(c.Request); (a.Status == 200) != (c.Status == 200) {
			t.Errorf("%s: %d, want %d", c.Name, a.Status, c.Status)
			if a.Status == 200 {
				accepted++
			}
		}
	}
	if accepted > 0 {
		t.Errorf("%d bad tokens accepted", accepted)
	}
}

func TestChallengeTable(t *testing.T) {
	o := &auth.Options{ResourceMetadataURL: "http://r/.well-known/oauth-protected-resource/mcp", Scopes: []string{"a", "b"}}
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{&auth.Error{Kind: auth.ErrNoToken, Reason: "x"}, 401, `Bearer resource_metadata="http://r/.well-known/oauth-protected-resource/mcp", scope="a b"`},
		{&auth.Error{Kind: auth.ErrMalformed, Reason: "bad \"x\"\n"}, 400, `Bearer error="invalid_request", error_description="bad \"x\"?", resource_metadata="http://r/.well-known/oauth-protected-resource/mcp", scope="a b"`},
		{&auth.Error{Kind: auth.ErrInvalidToken, Reason: "expired"}, 401, `Bearer error="invalid_token", error_description="expired", resource_metadata="http://r/.well-known/oauth-protected-resource/mcp", scope="a b"`},
		{&auth.Error{Kind: auth.ErrInsufficientScope, Reason: "r", Scope: []string{"b"}}, 403, `Bearer error="insufficient_scope", error_description="r", resource_metadata="http://r/.well-known/oauth-protected-resource/mcp", scope="b"`},
		{&auth.Error{Kind: auth.ErrUnavailable, Reason: "down"}, 503, ""},
		{errors.New("plain"), 503, ""},
	} {
		status, www := auth.Challenge(tc.err, o)
		if status != tc.status || www != tc.want {
			t.Errorf("%v:\n got %d %s\nwant %d %s", tc.err, status, www, tc.status, tc.want)
		}
	}
}

func TestIntrospectionUnavailable(t *testing.T) {
	v, err := auth.NewIntrospection(auth.IntrospectionConfig{URL: "http://127.0.0.1:1/introspect", ClientID: "x", Audience: resource})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), "tok", nil)
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("err = %v", err)
	}
	if s, _ := auth.Challenge(err, nil); s != 503 {
		t.Errorf("status %d", s)
	}
}

func TestJWKSRefetchOnUnknownKID(t *testing.T) {
	env := authtest.New(t, authtest.Config{Resource: resource})
	v := verifiers(t, env, "jwt")["jwt"]
	old := env.Token(t)
	if err := env.Server.Rotate(); err != nil {
		t.Fatal(err)
	}
	fresh := env.Token(t) // signed by a key the verifier has not seen
	for name, tok := range map[string]string{"old key": old, "new key": fresh} {
		if _, err := v.Verify(context.Background(), tok, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCacheBoundsAndExpiry(t *testing.T) {
	env := authtest.New(t, authtest.Config{Resource: resource})
	v := verifiers(t, env, "jwt")["jwt"]
	now := time.Now()
	c := auth.Cached(v, auth.CacheConfig{Size: 3, MaxAge: time.Minute, Now: func() time.Time { return now }})
	for i := 0; i < 5; i++ {
		if _, err := c.Verify(context.Background(), env.Token(t), nil); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 3 {
		t.Errorf("cache holds %d, bound 3", c.Len())
	}
	if _, err := c.Verify(context.Background(), "nope", nil); err == nil || c.Len() != 3 {
		t.Errorf("a bad token: %v, cache %d", err, c.Len())
	}
}

func TestMetadata(t *testing.T) {
	if got := auth.MetadataURL("http://127.0.0.1:9/mcp"); got != "http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("MetadataURL = %s", got)
	}
	m := auth.ResourceMetadata{Resource: resource, AuthorizationServers: []string{"http://as"}, ScopesSupported: []string{"tools:call"}}
	srv := httptest.NewServer(auth.MetadataHandler(m))
	defer srv.Close()
	resp, _ := http.Get(srv.URL)
	var b strings.Builder
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(b.String(), `"authorization_servers":["http://as"]`) || !strings.Contains(b.String(), `"bearer_methods_supported":["header"]`) {
		t.Errorf("%d %s", resp.StatusCode, b.String())
	}
	resp, _ = http.PostForm(srv.URL, url.Values{})
	if resp.StatusCode != 405 {
		t.Errorf("POST = %d", resp.StatusCode)
	}
}

func TestMCPScopes(t *testing.T) {
	for _, tc := range []struct {
		header, body string
		want         bool // needs tools:call
	}{
		{"tools/call", ``, true},
		{"tools/list", `{"method":"tools/call"}`, false}, // the header rules; the server checks it against the body
		{"", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`, true},
		{"", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, false},
		{"", ` [{"method":"ping"}]`, true},
		{"", `{"method":`, true},
		{"", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, false},
	} {
		if got := auth.MCPScopes(tc.header, []byte(tc.body)); (len(got) > 0) != tc.want {
			t.Errorf("%q %s: %v", tc.header, tc.body, got)
		}
	}
	req := httptest.NewRequest("POST", "/mcp", strings.NewReader(`{"method":"tools/call"}`))
	if got := auth.MCPRequired(req); len(got) != 1 {
		t.Errorf("MCPRequired: %v", got)
	}
	if b, _ := io.ReadAll(req.Body); string(b) != `{"method":"tools/call"}` {
		t.Errorf("the body was not put back: %q", b)
	}
}
