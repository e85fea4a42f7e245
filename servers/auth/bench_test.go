package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
	"github.com/mcpbench/mcpbench/servers/authserver"
)

// BenchmarkVerify: local JWT verification per algorithm, and introspection
// over loopback, each uncached and behind the verified-token cache (one
// token reused: the cache's best case, which is why results report both).
func BenchmarkVerify(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, alg := range authserver.Algorithms {
		env := authtest.New(b, authtest.Config{Resource: resource, Alg: alg})
		cfg := auth.JWTConfig{Issuer: env.Issuer, Audience: resource, JWKSURL: env.JWKSURL}
		if alg == "HS256" {
			cfg = auth.JWTConfig{Issuer: env.Issuer, Audience: resource, HMACSecret: env.Server.HMACKey()}
		}
		v, err := auth.NewJWT(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		benchVerifier(b, "jwt-"+alg, v, env.Token(b))
	}
	env := authtest.New(b, authtest.Config{Resource: resource, Tokens: "opaque"})
	v, err := auth.NewIntrospection(auth.IntrospectionConfig{URL: env.Issuer + "/introspect", ClientID: authtest.IntrospectorID,
		ClientSecret: authtest.IntrospectorSecret, Audience: resource})
	if err != nil {
		b.Fatal(err)
	}
	benchVerifier(b, "introspect-opaque", v, env.Token(b))
}

func benchVerifier(b *testing.B, name string, v auth.Verifier, tok string) {
	for _, cached := range []bool{false, true} {
		n := name
		vv := v
		if cached {
			n += "-cached"
			vv = auth.Cached(v, auth.CacheConfig{})
		}
		b.Run(n, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := vv.Verify(ctx, tok, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMiddleware: the net/http middleware end to end in process
// (httptest.ResponseRecorder), ES256 tokens, against no middleware at all.
func BenchmarkMiddleware(b *testing.B) {
	env := authtest.New(b, authtest.Config{Resource: resource, Alg: "ES256"})
	v, err := auth.NewJWT(context.Background(), auth.JWTConfig{Issuer: env.Issuer, Audience: resource, JWKSURL: env.JWKSURL})
	if err != nil {
		b.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	opts := auth.Options{ResourceMetadataURL: auth.MetadataURL(resource), Required: callScopes}
	tok := "Bearer " + env.Token(b)
	for name, h := range map[string]http.Handler{
		"none":       ok,
		"jwt":        auth.Middleware(v, opts)(ok),
		"jwt-cached": auth.Middleware(auth.Cached(v, auth.CacheConfig{}), opts)(ok),
		"bad-token":  auth.Middleware(v, opts)(ok),
	} {
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest("POST", resource, strings.NewReader(""))
			want := 200
			if name == "bad-token" {
				req.Header.Set("Authorization", tok[:len(tok)-3]+"AAA")
				want = 401
			} else {
				req.Header.Set("Authorization", tok)
			}
			b.ReportAllocs()
			for b.Loop() {
				r := req.Clone(req.Context())
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != want {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
