package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
	"github.com/mcpbench/mcpbench/servers/rest"
)

// recorder is an upstream that remembers the headers it was sent.
type recorder struct {
	mu   sync.Mutex
	last http.Header
}

func (r *recorder) start(t *testing.T) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.last = req.Header.Clone()
		r.mu.Unlock()
		w.Header().Set("Connection", "X-Secret-Hop")
		w.Header().Set("X-Secret-Hop", "1")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"result":"ok"}`))
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func startGateway(t testing.TB, opts Options) string {
	t.Helper()
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

func startREST(t testing.TB) string {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rest.Serve(ctx, ln, rest.Options{}) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

func do(t *testing.T, method, url string, headers map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestProxyStripsCredentialsAndHopByHop(t *testing.T) {
	var up recorder
	gw := startGateway(t, Options{Upstream: up.start(t), Auth: "apikey", APIKeys: []string{"k1", "k2"}})
	status, h, body := do(t, "POST", gw+"/tools/echo", map[string]string{
		"X-API-Key": "k2", "Authorization": "Bearer leaked", "Connection": "X-Hop", "X-Hop": "1", "X-Kept": "yes",
	}, `{"message":"x"}`)
	if status != 200 || body != `{"result":"ok"}` {
		t.Fatalf("%d %s", status, body)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	for _, k := range []string{"X-Api-Key", "Authorization", "X-Hop"} {
		if up.last.Get(k) != "" {
			t.Errorf("upstream received %s: %q", k, up.last.Get(k))
		}
	}
	if up.last.Get("X-Kept") != "yes" || up.last.Get("X-Forwarded-For") == "" {
		t.Errorf("upstream headers %v", up.last)
	}
	if h.Get("X-Secret-Hop") != "" {
		t.Error("a hop-by-hop response header came through")
	}
}

func TestAPIKey(t *testing.T) {
	gw := startGateway(t, Options{Upstream: startREST(t), Auth: "apikey", APIKeys: []string{"good-key"}})
	for _, tc := range []struct {
		name, key string
		status    int
		want      string
	}{
		{"good", "good-key", 200, `{"result":"hi"}`},
		{"wrong", "bad-key", 401, "invalid_api_key"},
		{"prefix of the key", "good", 401, "invalid_api_key"},
		{"missing", "", 401, "missing_api_key"},
		{"good again", "good-key", 200, `{"result":"hi"}`},
	} {
		h := map[string]string{}
		if tc.key != "" {
			h["X-API-Key"] = tc.key
		}
		status, _, body := do(t, "POST", gw+"/tools/echo", h, `{"message":"hi"}`)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
}

func TestJWTBadTokens(t *testing.T) {
	rs := startREST(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	resource := "http://" + addr + "/tools"
	env := authtest.New(t, authtest.Config{Resource: resource})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := auth.NewJWT(ctx, auth.JWTConfig{Issuer: env.Issuer, Audience: resource, JWKSURL: env.JWKSURL})
	if err != nil {
		t.Fatal(err)
	}
	dv, err := auth.NewDPoP(v, auth.DPoPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for name, vv := range map[string]auth.Verifier{"uncached": v, "cached": auth.Cached(v, auth.CacheConfig{}), "dpop": dv} {
		t.Run(name, func(t *testing.T) {
			g, err := New(Options{Upstream: rs, Auth: "jwt", Verifier: vv, Resource: resource, Issuer: env.Issuer})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Skip("port taken:", err)
			}
			sctx, stop := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- g.Serve(sctx, ln) }()
			defer func() { stop(); <-done }()
			call := authtest.Post(t, "http://"+addr+"/tools/echo", `{"message":"x"}`, map[string]string{"Content-Type": "application/json"})
			if name == "dpop" {
				authtest.RunDPoP(t, env, auth.MetadataURL(resource), "http://"+addr+"/tools/echo", call)
			} else {
				authtest.Run(t, env, auth.MetadataURL(resource), call)
			}
			status, _, body := do(t, "GET", "http://"+addr+auth.MetadataPath(resource), nil, "")
			if status != 200 || !strings.Contains(body, env.Issuer) {
				t.Errorf("metadata: %d %s", status, body)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	rs := startREST(t)
	tight := startGateway(t, Options{Upstream: rs, Auth: "apikey", APIKeys: []string{"a", "b"}, RateLimit: 1, Burst: 2})
	var codes []int
	var retry string
	for i := 0; i < 4; i++ {
		status, h, _ := do(t, "POST", tight+"/tools/echo", map[string]string{"X-API-Key": "a"}, `{"message":"x"}`)
		codes = append(codes, status)
		if status == 429 {
			retry = h.Get("Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 || retry != "1" {
		t.Errorf("statuses %v, Retry-After %q; want 200 200 429 … and 1", codes, retry)
	}
	if status, _, _ := do(t, "POST", tight+"/tools/echo", map[string]string{"X-API-Key": "b"}, `{"message":"x"}`); status != 200 {
		t.Errorf("another key was limited too: %d", status)
	}
	loose := startGateway(t, Options{Upstream: rs})
	for i := 0; i < 200; i++ {
		if status, _, _ := do(t, "POST", loose+"/tools/echo", nil, `{"message":"x"}`); status != 200 {
			t.Fatalf("the default limit tripped at call %d: %d", i, status)
		}
	}
}

func TestUpstreamDown(t *testing.T) {
	gw := startGateway(t, Options{Upstream: "http://127.0.0.1:1"})
	if status, _, body := do(t, "POST", gw+"/tools/echo", nil, `{}`); status != 502 || !strings.Contains(body, "upstream_unavailable") {
		t.Errorf("%d %s", status, body)
	}
}

func TestNewRejects(t *testing.T) {
	for name, o := range map[string]Options{
		"no upstream":      {},
		"https upstream":   {Upstream: "https://x:1"},
		"apikey, no keys":  {Upstream: "http://x:1", Auth: "apikey"},
		"jwt, no verifier": {Upstream: "http://x:1", Auth: "jwt"},
		"unknown auth":     {Upstream: "http://x:1", Auth: "basic"},
		"negative rate":    {Upstream: "http://x:1", RateLimit: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkGateway: one proxied echo call per auth mode, the handler in
// process, the upstream over loopback.
func BenchmarkGateway(b *testing.B) {
	rs := startREST(b)
	env := authtest.New(b, authtest.Config{Resource: "http://gw/tools", Alg: "ES256"})
	v, err := auth.NewJWT(context.Background(), auth.JWTConfig{Issuer: env.Issuer, Audience: "http://gw/tools", JWKSURL: env.JWKSURL})
	if err != nil {
		b.Fatal(err)
	}
	tok := "Bearer " + env.Token(b)
	for _, tc := range []struct {
		name   string
		opts   Options
		header [2]string
	}{
		{"none", Options{Upstream: rs}, [2]string{}},
		{"apikey", Options{Upstream: rs, Auth: "apikey", APIKeys: []string{"k"}}, [2]string{"X-API-Key", "k"}},
		{"jwt-ES256", Options{Upstream: rs, Auth: "jwt", Verifier: v, Resource: "http://gw/tools"}, [2]string{"Authorization", tok}},
		{"jwt-ES256-cached", Options{Upstream: rs, Auth: "jwt", Verifier: auth.Cached(v, auth.CacheConfig{}), Resource: "http://gw/tools"}, [2]string{"Authorization", tok}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			g, err := New(tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			var ctx fasthttp.RequestCtx
			body := []byte(`{"message":"hello"}`)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.Header.SetMethod("POST")
				ctx.Request.SetRequestURI("/tools/echo")
				ctx.Request.Header.SetContentType("application/json")
				if tc.header[0] != "" {
					ctx.Request.Header.Set(tc.header[0], tc.header[1])
				}
				ctx.Request.SetBody(body)
				g.Handler(&ctx)
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}
