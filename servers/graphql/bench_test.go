package graphql

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
)

const benchResource = "http://127.0.0.1:8080/graphql"

// echoBody is the load generator's echo call.
var echoBody = []byte(body(`{ echo(message: "hello") }`))

// rewindBody is a request body that can be read again.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// discard is a ResponseWriter that keeps the status and counts bytes.
type discard struct {
	h      http.Header
	status int
	n      int
	last   []byte
}

func (d *discard) Header() http.Header    { return d.h }
func (d *discard) WriteHeader(status int) { d.status = status }
func (d *discard) Write(p []byte) (int, error) {
	d.n += len(p)
	d.last = append(d.last[:0], p...)
	return len(p), nil
}

// runEcho serves the echo call through h b.N times in process, with the
// Authorization header when authz is not empty.
func runEcho(b *testing.B, h http.Handler, authz string) {
	req := httptest.NewRequest(http.MethodPost, benchResource, nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	rb := &rewindBody{}
	w := &discard{h: make(http.Header)}
	authzValues := []string{authz}
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset(echoBody)
		req.Body = rb
		if authz != "" {
			req.Header["Authorization"] = authzValues // the middleware deletes it
		}
		clear(w.h)
		w.status = 200
		h.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("%d %s", w.status, w.last)
		}
	}
	if string(w.last) != `{"data":{"echo":"hello"}}` {
		b.Fatalf("%s", w.last)
	}
}

// BenchmarkQueryEcho: one echo query in process (no sockets), per
// security configuration: none, an ES256 token checked on every call, and
// the same token behind the verified-token cache (its best case: one
// token reused). Parsing, validation, the limits and the rate limiter run
// on every call.
func BenchmarkQueryEcho(b *testing.B) {
	env := authtest.New(b, authtest.Config{Resource: benchResource, Alg: "ES256"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := auth.NewJWT(ctx, auth.JWTConfig{Issuer: env.Issuer, Audience: benchResource, JWKSURL: env.JWKSURL})
	if err != nil {
		b.Fatal(err)
	}
	tok := "Bearer " + env.Token(b)
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"none", Options{}},
		{"jwt-ES256", Options{Auth: "jwt", Verifier: v, Resource: benchResource, Issuer: env.Issuer}},
		{"jwt-ES256-cached", Options{Auth: "jwt", Verifier: auth.Cached(v, auth.CacheConfig{}), Resource: benchResource, Issuer: env.Issuer}},
	} {
		b.Run(c.name, func(b *testing.B) {
			authz := ""
			if c.o.Auth != "" {
				authz = tok
			}
			runEcho(b, newHandler(b, c.o), authz)
		})
	}
}

// BenchmarkQueryEchoLoopback: the same call over a keep-alive loopback
// connection with net/http's client, one at a time.
func BenchmarkQueryEchoLoopback(b *testing.B) {
	env := authtest.New(b, authtest.Config{Resource: benchResource, Alg: "ES256"})
	v, err := auth.NewJWT(b.Context(), auth.JWTConfig{Issuer: env.Issuer, Audience: benchResource, JWKSURL: env.JWKSURL})
	if err != nil {
		b.Fatal(err)
	}
	tok := "Bearer " + env.Token(b)
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"none", Options{}},
		{"jwt-ES256", Options{Auth: "jwt", Verifier: v, Resource: benchResource, Issuer: env.Issuer}},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(newHandler(b, c.o))
			defer srv.Close()
			client := srv.Client()
			rb := &rewindBody{}
			b.ReportAllocs()
			for b.Loop() {
				rb.Reset(echoBody)
				req, _ := http.NewRequest(http.MethodPost, srv.URL+Path, rb)
				req.ContentLength = int64(len(echoBody))
				req.Header.Set("Content-Type", "application/json")
				if c.o.Auth != "" {
					req.Header.Set("Authorization", tok)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%d", resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkQueryCache shows what the query cache this server leaves off
// would save per call (parsing and validation of the echo query): the
// gqlgen server alone, without and with gqlgen's LRU cache.
func BenchmarkQueryCache(b *testing.B) {
	o, _ := Options{}.withDefaults()
	for _, cached := range []bool{false, true} {
		name := "off"
		if cached {
			name = "lru"
		}
		b.Run(name, func(b *testing.B) {
			srv := newGraphQL(o)
			if cached {
				srv.SetQueryCache(lru.New[*ast.QueryDocument](100))
			}
			runEcho(b, srv, "")
		})
	}
}
