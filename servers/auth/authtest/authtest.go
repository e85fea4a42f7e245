// Package authtest is the shared negative test of token validation: an
// embedded authorization server, the tokens an attacker or a careless
// client would send, and the answer each must get. Every server that
// validates tokens runs Run against itself, so that all of them refuse the
// same things the same way.
//
//	env := authtest.New(t, authtest.Config{Resource: url})
//	// start the server under test trusting env.Issuer / env.JWKSURL …
//	authtest.Run(t, env, func(c authtest.Request) authtest.Answer { … })
package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/authserver"
)

// Client is the client id and secret the embedded server knows.
const (
	ClientID     = "mcpbench"
	ClientSecret = "mcpbench-secret"
	// IntrospectorID is the resource server's own client, for introspection.
	IntrospectorID     = "resource"
	IntrospectorSecret = "resource-secret"
)

// Config says what the environment is for.
type Config struct {
	// Resource is the protected resource's URL (the audience).
	Resource string
	// Tokens is "jwt" (default) or "opaque".
	Tokens string
	// Alg is the signing algorithm; default RS256.
	Alg string
}

// Env is a running authorization server and what the tests need of it.
type Env struct {
	Server   *authserver.Server
	Issuer   string
	JWKSURL  string
	Resource string
	cfg      Config
}

// New starts an authorization server on a loopback port for the test.
func New(t testing.TB, cfg Config) *Env {
	t.Helper()
	if cfg.Alg == "" {
		cfg.Alg = "RS256"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := authserver.New(authserver.Options{
		Issuer:  "http://" + ln.Addr().String(),
		Clients: map[string]string{ClientID: ClientSecret, IntrospectorID: IntrospectorSecret},
		Alg:     cfg.Alg, Tokens: cfg.Tokens, TTL: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &Env{Server: s, Issuer: s.Issuer(), JWKSURL: s.Issuer() + "/jwks.json", Resource: cfg.Resource, cfg: cfg}
}

// Token mints a good token for the resource with the given scopes (all
// scopes when none are given).
func (e *Env) Token(t testing.TB, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = authserver.DefaultScopes
	}
	tok, _, err := e.Server.Mint(ClientID, e.Resource, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Request is one request to make: its Authorization header values (none,
// one, or several) and whether the token also rides in the query string.
// The request is a tools/call of the echo tool.
type Request struct {
	Name          string
	Authorization []string
	QueryToken    string
	DPoP          []string // DPoP proof headers (RFC 9449)
}

// Answer is what the server said.
type Answer struct {
	Status          int
	WWWAuthenticate string
}

// Case is a request and the answer it must get.
type Case struct {
	Request
	Status int
	// Error is the error code the challenge must carry ("" for none).
	Error string
}

// Cases returns the requests to refuse, and those to accept (Status 200).
func (e *Env) Cases(t testing.TB) []Case {
	t.Helper()
	f := &forger{e: e, t: t, now: time.Now()}
	cases := f.headerCases()
	if e.cfg.Tokens == "opaque" {
		return append(cases,
			Case{Request{Name: "inactive opaque token", Authorization: bearer("ZmFrZS1vcGFxdWUtdG9rZW4")}, 401, "invalid_token"},
			Case{Request{Name: "token for another resource", Authorization: bearer(e.other(t))}, 401, "invalid_token"},
		)
	}
	return append(cases, f.jwtCases()...)
}

// forger makes the tokens of the cases: good ones, ones signed by the
// authorization server with claims changed, and forgeries.
type forger struct {
	e   *Env
	t   testing.TB
	now time.Time
}

func bearer(tok string) []string { return []string{"Bearer " + tok} }

func (f *forger) good(scopes ...string) string { return f.e.Token(f.t, scopes...) }

// claims are a valid token's claims, changed by change.
func (f *forger) claims(change func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": f.e.Issuer, "sub": ClientID, "aud": []string{f.e.Resource}, "client_id": ClientID,
		"exp": f.now.Add(5 * time.Minute).Unix(), "iat": f.now.Unix(), "jti": "t1", "scope": "tools:read tools:call",
	}
	if change != nil {
		change(c)
	}
	return c
}

// signed is c signed by the authorization server, with header's fields.
func (f *forger) signed(c jwt.MapClaims, header map[string]any) string {
	tok, err := f.e.Server.Sign(c, header)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// forge signs c with key by method, under the server's kid.
func (f *forger) forge(m jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	tk := jwt.NewWithClaims(m, c)
	tk.Header["typ"] = "at+jwt"
	tk.Header["kid"] = f.e.Server.KeyID()
	for h, v := range header {
		tk.Header[h] = v
	}
	s, err := tk.SignedString(key)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// headerCases are about the Authorization header itself, whatever the
// tokens are.
func (f *forger) headerCases() []Case {
	good := f.good
	return []Case{
		{Request{Name: "valid token", Authorization: bearer(good())}, 200, ""},
		{Request{Name: "valid token, lowercase scheme", Authorization: []string{"bearer " + good()}}, 200, ""},
		{Request{Name: "missing header"}, 401, ""},
		{Request{Name: "basic scheme", Authorization: []string{"Basic bWNwYmVuY2g6eA=="}}, 400, "invalid_request"},
		{Request{Name: "bearer without token", Authorization: []string{"Bearer"}}, 400, "invalid_request"},
		{Request{Name: "bearer with blank token", Authorization: []string{"Bearer    "}}, 400, "invalid_request"},
		{Request{Name: "token with a comma", Authorization: []string{"Bearer a,b"}}, 400, "invalid_request"},
		{Request{Name: "two tokens in one header", Authorization: []string{"Bearer " + good() + " " + good()}}, 400, "invalid_request"},
		{Request{Name: "two authorization headers", Authorization: []string{"Bearer " + good(), "Bearer " + good()}}, 400, "invalid_request"},
		{Request{Name: "token in the query as well", Authorization: bearer(good()), QueryToken: good()}, 400, "invalid_request"},
		{Request{Name: "not a JWT", Authorization: bearer("abc.def")}, 401, "invalid_token"},
		{Request{Name: "oversized token", Authorization: bearer(strings.Repeat("a", 9000))}, 401, "invalid_token"},
		{Request{Name: "scope missing", Authorization: bearer(good("tools:read"))}, 403, "insufficient_scope"},
	}
}

// jwtCases are about JWT access tokens: claims, signatures, algorithms.
func (f *forger) jwtCases() []Case {
	e, t, now := f.e, f.t, f.now
	claims, signed, forge := f.claims, f.signed, f.forge
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	noneKid := func() string {
		tk := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
		tk.Header["kid"] = e.Server.KeyID()
		tk.Header["typ"] = "at+jwt"
		s, _ := tk.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}()
	cases := []Case{
		{Request{Name: "valid token signed by hand", Authorization: bearer(signed(claims(nil), nil))}, 200, ""},
		{Request{Name: "bad signature (another RSA key, same kid)", Authorization: bearer(forge(jwt.SigningMethodRS256, rsaKey, nil, claims(nil)))}, 401, "invalid_token"},
		{Request{Name: "signature stripped", Authorization: bearer(strings.TrimRight(signed(claims(nil), nil), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))}, 401, "invalid_token"},
		{Request{Name: "signature of another token", Authorization: bearer(swapSignature(signed(claims(nil), nil), signed(claims(func(c jwt.MapClaims) { c["scope"] = "tools:read" }), nil)))}, 401, "invalid_token"},
		{Request{Name: "expired", Authorization: bearer(signed(claims(func(c jwt.MapClaims) {
			c["exp"] = now.Add(-10 * time.Minute).Unix()
			c["iat"] = now.Add(-20 * time.Minute).Unix()
		}), nil))}, 401, "invalid_token"},
		{Request{Name: "not yet valid", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() }), nil))}, 401, "invalid_token"},
		{Request{Name: "issued in the future", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { c["iat"] = now.Add(10 * time.Minute).Unix() }), nil))}, 401, "invalid_token"},
		{Request{Name: "no expiry", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil))}, 401, "invalid_token"},
		{Request{Name: "wrong issuer", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { c["iss"] = "http://evil.example" }), nil))}, 401, "invalid_token"},
		{Request{Name: "no issuer", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { delete(c, "iss") }), nil))}, 401, "invalid_token"},
		{Request{Name: "wrong audience", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { c["aud"] = "http://127.0.0.1:1/other" }), nil))}, 401, "invalid_token"},
		{Request{Name: "no audience", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { delete(c, "aud") }), nil))}, 401, "invalid_token"},
		{Request{Name: "token for another resource", Authorization: bearer(e.other(t))}, 401, "invalid_token"},
		{Request{Name: "alg none", Authorization: bearer(none)}, 401, "invalid_token"},
		{Request{Name: "alg none with the real kid", Authorization: bearer(noneKid)}, 401, "invalid_token"},
		{Request{Name: "unknown kid", Authorization: bearer(forge(jwt.SigningMethodRS256, rsaKey, map[string]any{"kid": "no-such-key"}, claims(nil)))}, 401, "invalid_token"},
		{Request{Name: "no kid", Authorization: bearer(signed(claims(nil), map[string]any{"kid": nil}))}, 401, "invalid_token"},
		{Request{Name: "ES256 under the RSA key's kid", Authorization: bearer(forge(jwt.SigningMethodES256, ecKey, nil, claims(nil)))}, 401, "invalid_token"},
		{Request{Name: "not an access token (typ JWT)", Authorization: bearer(signed(claims(nil), map[string]any{"typ": "JWT"}))}, 401, "invalid_token"},
		{Request{Name: "no subject", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { delete(c, "sub") }), nil))}, 401, "invalid_token"},
		{Request{Name: "scope missing, signed by hand", Authorization: bearer(signed(claims(func(c jwt.MapClaims) { c["scope"] = "tools:read" }), nil))}, 403, "insufficient_scope"},
	}
	if pub, ok := e.Server.PublicKey().(*rsa.PublicKey); ok {
		der, _ := x509.MarshalPKIXPublicKey(pub)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		cases = append(cases,
			Case{Request{Name: "HS256 signed with the RSA public key (PEM)", Authorization: bearer(forge(jwt.SigningMethodHS256, pemKey, nil, claims(nil)))}, 401, "invalid_token"},
			Case{Request{Name: "HS256 signed with the RSA public key (DER)", Authorization: bearer(forge(jwt.SigningMethodHS256, der, nil, claims(nil)))}, 401, "invalid_token"},
		)
	}
	return cases
}

// other gets a real token from the issuer, for another resource.
func (e *Env) other(t testing.TB) string {
	tok, _, err := e.Server.Mint(ClientID, "http://127.0.0.1:1/another-server", authserver.DefaultScopes)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// swapSignature puts b's signature on a's header and claims.
func swapSignature(a, b string) string {
	return a[:strings.LastIndexByte(a, '.')] + b[strings.LastIndexByte(b, '.'):]
}

// Run sends every case through do and checks each answer: the status, and
// for refusals a Bearer challenge with the error code and the resource's
// metadata URL. It also counts: not one bad token may be accepted.
func Run(t *testing.T, e *Env, metadataURL string, do func(Request) Answer) {
	t.Helper()
	RunSkipping(t, e, metadataURL, nil, do)
}

// RunSkipping is Run for a server that cannot meet some cases: skip names
// them, with the reason each is skipped. It returns the status each case
// sent got, so that a caller can check that the cases it must refuse ran.
func RunSkipping(t *testing.T, e *Env, metadataURL string, skip map[string]string, do func(Request) Answer) map[string]int {
	t.Helper()
	return runCases(t, e.Cases(t), "Bearer", metadataURL, skip, do)
}

// runCases sends the cases, in order, and fails t for every answer but
// the one each must get: a challenge in scheme with the case's error code
// (none for a request without credentials), pointing at metadataURL when
// that is given. It returns the status each case sent got.
func runCases(t *testing.T, cases []Case, scheme, metadataURL string, skip map[string]string, do func(Request) Answer) map[string]int {
	t.Helper()
	accepted := 0
	ran := map[string]int{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if why, ok := skip[c.Name]; ok {
				t.Skip(why)
			}
			a := do(c.Request)
			ran[c.Name] = a.Status
			if a.Status == 200 && c.Status != 200 {
				accepted++
			}
			if a.Status != c.Status {
				t.Fatalf("status %d, want %d (WWW-Authenticate: %q)", a.Status, c.Status, a.WWWAuthenticate)
			}
			if c.Status == 200 {
				return
			}
			w := a.WWWAuthenticate
			if !strings.HasPrefix(w, scheme) {
				t.Errorf("WWW-Authenticate %q is not a %s challenge", w, scheme)
			}
			if scheme == "DPoP" && !strings.Contains(w, `algs="`) {
				t.Errorf("WWW-Authenticate %q does not say which proof algorithms", w)
			}
			if c.Error != "" && !strings.Contains(w, `error="`+c.Error+`"`) {
				t.Errorf("WWW-Authenticate %q lacks error=%q", w, c.Error)
			}
			if c.Error == "" && strings.Contains(w, "error=") {
				t.Errorf("WWW-Authenticate %q has an error code; a request without credentials gets none", w)
			}
			if metadataURL != "" && !strings.Contains(w, `resource_metadata="`+metadataURL+`"`) {
				t.Errorf("WWW-Authenticate %q does not point at %s", w, metadataURL)
			}
			if c.Error == "insufficient_scope" && !strings.Contains(w, `scope="`) {
				t.Errorf("WWW-Authenticate %q does not say which scope", w)
			}
		})
	}
	if accepted > 0 {
		t.Errorf("%d bad requests accepted", accepted)
	}
	return ran
}

// Verifier builds the verifier a server trusting e uses in mode: "jwt",
// "introspect", or either with "+cache" (the verified-token cache) and
// "+dpop" (DPoP-bound tokens required, RFC 9449), in that order. Its
// JWKS refreshes end with the test.
func (e *Env) Verifier(t testing.TB, mode string) auth.Verifier {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mode, dpopToo := strings.CutSuffix(mode, "+dpop")
	base, cached := strings.CutSuffix(mode, "+cache")
	var v auth.Verifier
	var err error
	switch base {
	case "jwt":
		v, err = auth.NewJWT(ctx, auth.JWTConfig{Issuer: e.Issuer, Audience: e.Resource, JWKSURL: e.JWKSURL})
	case "introspect":
		v, err = auth.NewIntrospection(auth.IntrospectionConfig{URL: e.Issuer + "/introspect", ClientID: IntrospectorID,
			ClientSecret: IntrospectorSecret, Issuer: e.Issuer, Audience: e.Resource})
	default:
		t.Fatalf("authtest: verifier mode %q: jwt or introspect, +cache optional", mode)
	}
	if err != nil {
		t.Fatal(err)
	}
	if cached {
		v = auth.Cached(v, auth.CacheConfig{Size: 100})
	}
	if dpopToo {
		if v, err = auth.NewDPoP(v, auth.DPoPConfig{Mode: auth.DPoPRequired}); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// Post returns a do function for Run that POSTs body to url with headers,
// adding each request's Authorization values and its token in the query.
func Post(t testing.TB, url, body string, headers map[string]string) func(Request) Answer {
	return func(r Request) Answer {
		t.Helper()
		u := url
		if r.QueryToken != "" {
			u += "?access_token=" + r.QueryToken
		}
		req, err := http.NewRequest("POST", u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		for _, a := range r.Authorization {
			req.Header.Add("Authorization", a)
		}
		for _, p := range r.DPoP {
			req.Header.Add("DPoP", p)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return Answer{Status: resp.StatusCode, WWWAuthenticate: resp.Header.Get("WWW-Authenticate")}
	}
}
