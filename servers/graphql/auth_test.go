package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
)

// verifierFunc is a Verifier from a function.
type verifierFunc func(ctx context.Context, token string) (*auth.Info, error)

func (f verifierFunc) Verify(ctx context.Context, token string, _ auth.Request) (*auth.Info, error) {
	return f(ctx, token)
}

// allowAll accepts any token as subject "s" with the call scope.
var allowAll = verifierFunc(func(context.Context, string) (*auth.Info, error) {
	return &auth.Info{Subject: "s", Scopes: []string{Scope}}, nil
})

// serve runs Serve on a loopback port until the test ends; it returns the
// base URL.
func serve(t *testing.T, ln net.Listener, o Options) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// post sends query to url with the Authorization values given.
func post(t testing.TB, url, query string, authorization ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body(query)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	for _, a := range authorization {
		req.Header.Add("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// The shared bad-token table against the server, each verifier
// configuration: every refusal gets its status and challenge, a valid
// token gets the echo.
func TestBadTokens(t *testing.T) {
	for _, name := range []string{"jwt", "jwt+cache"} {
		t.Run(name, func(t *testing.T) {
			ln := listen(t)
			resource := "http://" + ln.Addr().String() + Path
			env := authtest.New(t, authtest.Config{Resource: resource})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var v auth.Verifier
			v, err := auth.NewJWT(ctx, auth.JWTConfig{Issuer: env.Issuer, Audience: resource, JWKSURL: env.JWKSURL})
			if err != nil {
				t.Fatal(err)
			}
			if name == "jwt+cache" {
				v = auth.Cached(v, auth.CacheConfig{Size: 100})
			}
			serve(t, ln, Options{Auth: "jwt", Verifier: v, Resource: resource, Issuer: env.Issuer})
			meta := auth.MetadataURL(resource)
			authtest.Run(t, env, meta, func(r authtest.Request) authtest.Answer {
				u := resource
				if r.QueryToken != "" {
					u += "?access_token=" + r.QueryToken
				}
				resp, b := post(t, u, `{ echo(message: "authorized") }`, r.Authorization...)
				if resp.StatusCode == 200 && b != `{"data":{"echo":"authorized"}}` {
					t.Errorf("200 with %s", b)
				}
				return authtest.Answer{Status: resp.StatusCode, WWWAuthenticate: resp.Header.Get("WWW-Authenticate")}
			})

			resp, err := http.Get(meta)
			if err != nil {
				t.Fatal(err)
			}
			var md auth.ResourceMetadata
			err = json.NewDecoder(resp.Body).Decode(&md)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || md.Resource != resource || len(md.AuthorizationServers) != 1 ||
				md.AuthorizationServers[0] != env.Issuer || len(md.ScopesSupported) != 1 || md.ScopesSupported[0] != Scope {
				t.Errorf("metadata %d %+v %v", resp.StatusCode, md, err)
			}
		})
	}
}

// With tokens, the rate limit counts per subject, whatever the address.
func TestRateLimitPerSubject(t *testing.T) {
	ln := listen(t)
	resource := "http://" + ln.Addr().String() + Path
	env := authtest.New(t, authtest.Config{Resource: resource})
	v, err := auth.NewJWT(t.Context(), auth.JWTConfig{Issuer: env.Issuer, Audience: resource, JWKSURL: env.JWKSURL})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln, Options{Auth: "jwt", Verifier: v, Resource: resource, Issuer: env.Issuer, RateLimit: 0.01, Burst: 1})
	token := func(sub string) string {
		now := time.Now()
		tok, err := env.Server.Sign(jwt.MapClaims{"iss": env.Issuer, "sub": sub, "aud": []string{resource}, "client_id": authtest.ClientID,
			"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "jti": sub, "scope": Scope}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	for _, step := range []struct {
		sub    string
		status int
	}{{"alice", 200}, {"alice", 429}, {"bob", 200}, {"bob", 429}} {
		resp, b := post(t, resource, good, token(step.sub))
		if resp.StatusCode != step.status {
			t.Fatalf("%s: %d %s, want %d", step.sub, resp.StatusCode, b, step.status)
		}
		if step.status == 429 && (resp.Header.Get("Retry-After") != "100" || !strings.Contains(b, CodeRateLimited)) {
			t.Errorf("429 with Retry-After %q and %s", resp.Header.Get("Retry-After"), b)
		}
	}
}

// Serve fills in Resource from the listener, serves the metadata there,
// and on cancellation lets a call in flight finish before it returns.
func TestServe(t *testing.T) {
	ln := listen(t)
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, Options{Auth: "jwt", Verifier: allowAll, Issuer: "http://issuer.example"})
	}()

	resp, err := http.Get(base + "/.well-known/oauth-protected-resource/graphql")
	if err != nil {
		t.Fatal(err)
	}
	var md auth.ResourceMetadata
	json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if md.Resource != base+Path {
		t.Errorf("metadata names resource %q, want %q", md.Resource, base+Path)
	}
	if resp, _ := post(t, base+"/other", good, "Bearer x"); resp.StatusCode != 404 {
		t.Errorf("/other: %d", resp.StatusCode)
	}

	type result struct {
		status int
		body   string
	}
	inflight := make(chan result, 1)
	go func() {
		resp, b := post(t, base+Path, `{ sleep(ms: 300) }`, "Bearer x")
		inflight <- result{resp.StatusCode, b}
	}()
	time.Sleep(100 * time.Millisecond) // let the call start
	cancel()
	if r := <-inflight; r.status != 200 || r.body != `{"data":{"sleep":"slept 300 ms"}}` {
		t.Errorf("the call in flight: %d %s", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Post(base+Path, "application/json", strings.NewReader(body(good))); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestServeBadOptions(t *testing.T) {
	ln := listen(t)
	defer ln.Close()
	if err := Serve(t.Context(), ln, Options{Auth: "jwt"}); !errors.Is(err, ErrConfig) {
		t.Errorf("err = %v", err)
	}
}
