package authserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

const resource = "http://127.0.0.1:7000/mcp"

// clock is a settable time for tests of expiry and rotation.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newServer(t *testing.T, opts Options) (*Server, *httptest.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Now()}
	hs := httptest.NewUnstartedServer(nil)
	opts.Issuer = "http://" + hs.Listener.Addr().String()
	if opts.Clients == nil {
		opts.Clients = map[string]string{"bench": "s3cret", "other": "pw"}
	}
	opts.Now = clk.now
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = s.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return s, hs, clk
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func post(t *testing.T, u string, f url.Values, basic ...string) reply {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return readReply(resp)
}

func readReply(resp *http.Response) reply {
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &body)
	return reply{resp.StatusCode, resp.Header, body}
}

func TestMetadata(t *testing.T) {
	s, hs, _ := newServer(t, Options{})
	resp, err := http.Get(hs.URL + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m["issuer"] != s.Issuer() || m["token_endpoint"] != hs.URL+"/token" || m["jwks_uri"] != hs.URL+"/jwks.json" ||
		m["introspection_endpoint"] != hs.URL+"/introspect" {
		t.Errorf("metadata: %v", m)
	}
	for k, want := range map[string]string{
		"grant_types_supported":            `["client_credentials","authorization_code"]`,
		"response_types_supported":         `["code"]`,
		"code_challenge_methods_supported": `["S256"]`,
		"authorization_endpoint":           `"` + hs.URL + `/authorize"`,
	} {
		if g, _ := json.Marshal(m[k]); string(g) != want {
			t.Errorf("%s = %s, want %s", k, g, want)
		}
	}
	// RFC 8414: a field is an array or absent, never null.
	for k, v := range m {
		if v == nil {
			t.Errorf("%s is null", k)
		}
	}
}

func TestTokenRequests(t *testing.T) {
	_, hs, _ := newServer(t, Options{})
	tok := hs.URL + "/token"
	cc := func(kv ...string) url.Values {
		f := url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
	}{
		{"basic", cc(), []string{"bench", "s3cret"}, 200, ""},
		{"post", cc("client_id", "bench", "client_secret", "s3cret"), nil, 200, ""},
		{"scope subset", cc("scope", "tools:call"), []string{"bench", "s3cret"}, 200, ""},
		{"wrong secret", cc(), []string{"bench", "nope"}, 401, "invalid_client"},
		{"unknown client", cc(), []string{"eve", "s3cret"}, 401, "invalid_client"},
		{"no client auth", cc(), nil, 401, "invalid_client"},
		{"two auth methods", cc("client_secret", "s3cret"), []string{"bench", "s3cret"}, 400, "invalid_request"},
		{"no grant type", cc("grant_type", ""), []string{"bench", "s3cret"}, 400, "invalid_request"},
		{"password grant", cc("grant_type", "password"), []string{"bench", "s3cret"}, 400, "unsupported_grant_type"},
		{"unknown scope", cc("scope", "admin"), []string{"bench", "s3cret"}, 400, "invalid_scope"},
		{"no resource", cc("resource", ""), []string{"bench", "s3cret"}, 400, "invalid_target"},
		{"relative resource", cc("resource", "/mcp"), []string{"bench", "s3cret"}, 400, "invalid_target"},
		{"resource with fragment", cc("resource", resource+"#x"), []string{"bench", "s3cret"}, 400, "invalid_target"},
		{"repeated resource", url.Values{"grant_type": {"client_credentials"}, "resource": {resource, "http://x/"}}, []string{"bench", "s3cret"}, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, tok, tc.form, tc.basic...)
			if r.status != tc.status || (tc.code != "" && r.body["error"] != tc.code) {
				t.Fatalf("%d %v; want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("token response without Cache-Control: no-store")
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tc.status == 200 && (r.body["token_type"] != "Bearer" || r.body["access_token"] == "" || r.body["expires_in"] != 3600.0) {
				t.Errorf("token response %v", r.body)
			}
		})
	}
	// Not a POST form.
	resp, _ := http.Get(tok)
	if resp.StatusCode != 405 {
		t.Errorf("GET /token = %d", resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = http.Post(tok, "application/json", strings.NewReader(`{}`))
	if resp.StatusCode != 400 {
		t.Errorf("JSON body = %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// jwksKeyfunc verifies tokens as a resource server would: keys from the
// published JWKS only, algorithm from the key.
func jwksKeyfunc(t *testing.T, hs *httptest.Server) jwt.Keyfunc {
	resp, err := http.Get(hs.URL + "/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jwkset.JWKSMarshal
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys, err := set.JWKSlice()
	if err != nil {
		t.Fatal(err)
	}
	return func(tok *jwt.Token) (any, error) {
		for _, k := range keys {
			if k.Marshal().KID == tok.Header["kid"] && string(k.Marshal().ALG) == tok.Method.Alg() {
				return k.Key(), nil
			}
		}
		return nil, jwt.ErrTokenUnverifiable
	}
}

func TestJWTClaimsPerAlgorithm(t *testing.T) {
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			s, hs, _ := newServer(t, Options{Alg: alg, TTL: 5 * time.Minute})
			r := post(t, hs.URL+"/token", url.Values{"grant_type": {"client_credentials"}, "resource": {resource}, "scope": {"tools:call"}}, "bench", "s3cret")
			if r.status != 200 {
				t.Fatal(r.body)
			}
			raw := r.body["access_token"].(string)
			kf := func(tok *jwt.Token) (any, error) { return s.HMACKey(), nil }
			if alg != "HS256" {
				kf = jwksKeyfunc(t, hs)
			}
			var c jwt.MapClaims
			tok, err := jwt.ParseWithClaims(raw, &c, kf, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(s.Issuer()), jwt.WithAudience(resource))
			if err != nil || !tok.Valid {
				t.Fatalf("token does not verify: %v", err)
			}
			if tok.Header["typ"] != "at+jwt" || tok.Header["kid"] != s.KeyID() {
				t.Errorf("header %v", tok.Header)
			}
			for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} {
				if _, ok := c[k]; !ok {
					t.Errorf("claim %s missing: %v", k, c)
				}
			}
			if c["client_id"] != "bench" || c["sub"] != "bench" || c["scope"] != "tools:call" || c["exp"].(float64)-c["iat"].(float64) != 300 {
				t.Errorf("claims %v", c)
			}
			if alg == "HS256" {
				if b, _ := io.ReadAll(must(http.Get(hs.URL + "/jwks.json")).Body); strings.Contains(string(b), `"k"`) {
					t.Errorf("the HS256 secret is published: %s", b)
				}
			}
		})
	}
}

func must(r *http.Response, err error) *http.Response {
	if err != nil {
		panic(err)
	}
	return r
}

func TestIntrospection(t *testing.T) {
	for _, kind := range []string{"opaque", "jwt"} {
		t.Run(kind, func(t *testing.T) {
			_, hs, clk := newServer(t, Options{Tokens: kind, TTL: time.Minute})
			r := post(t, hs.URL+"/token", url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}, "bench", "s3cret")
			tok := r.body["access_token"].(string)
			if kind == "opaque" && strings.Count(tok, ".") == 2 {
				t.Errorf("opaque token looks like a JWT: %s", tok)
			}
			in := hs.URL + "/introspect"
			r = post(t, in, url.Values{"token": {tok}}, "other", "pw")
			if r.status != 200 || r.body["active"] != true || r.body["client_id"] != "bench" || r.body["scope"] != "tools:read tools:call" {
				t.Errorf("introspection: %d %v", r.status, r.body)
			}
			if aud, _ := json.Marshal(r.body["aud"]); string(aud) != `["`+resource+`"]` {
				t.Errorf("aud = %s", aud)
			}
			if r := post(t, in, url.Values{"token": {tok}}); r.status != 401 {
				t.Errorf("unauthenticated introspection: %d", r.status)
			}
			if r := post(t, in, url.Values{"token": {"garbage"}}, "bench", "s3cret"); r.status != 200 || r.body["active"] != false || len(r.body) != 1 {
				t.Errorf("unknown token: %v", r.body)
			}
			if r := post(t, in, url.Values{}, "bench", "s3cret"); r.status != 400 {
				t.Errorf("no token: %d", r.status)
			}
			clk.add(61 * time.Second)
			if r := post(t, in, url.Values{"token": {tok}}, "bench", "s3cret"); r.body["active"] != false {
				t.Errorf("expired token still active: %v", r.body)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	s, hs, clk := newServer(t, Options{Alg: "ES256", TTL: time.Minute})
	kids := func() []string {
		var set jwkset.JWKSMarshal
		json.NewDecoder(must(http.Get(hs.URL + "/jwks.json")).Body).Decode(&set)
		var k []string
		for _, j := range set.Keys {
			k = append(k, j.KID)
		}
		return k
	}
	first := s.KeyID()
	r := post(t, hs.URL+"/token", url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}, "bench", "s3cret")
	old := r.body["access_token"].(string)
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	second := s.KeyID()
	if got := kids(); len(got) != 2 || got[0] != second || got[1] != first {
		t.Errorf("after rotation JWKS has %v; want [%s %s]", got, second, first)
	}
	if r := post(t, hs.URL+"/introspect", url.Values{"token": {old}}, "bench", "s3cret"); r.body["active"] != true {
		t.Errorf("token of the retired key no longer active: %v", r.body)
	}
	clk.add(61 * time.Second)
	if got := kids(); len(got) != 1 || got[0] != second {
		t.Errorf("a minute after rotation JWKS has %v; want only %s", got, second)
	}
}

func TestNewRejects(t *testing.T) {
	c := map[string]string{"a": "b"}
	for name, o := range map[string]Options{
		"no issuer":      {Clients: c},
		"issuer query":   {Issuer: "http://x/?q", Clients: c},
		"no clients":     {Issuer: "http://x"},
		"empty secret":   {Issuer: "http://x", Clients: map[string]string{"a": ""}},
		"bad alg":        {Issuer: "http://x", Clients: c, Alg: "none"},
		"bad token kind": {Issuer: "http://x", Clients: c, Tokens: "macaroon"},
		"tiny ttl":       {Issuer: "http://x", Clients: c, TTL: time.Millisecond},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func BenchmarkMint(b *testing.B) {
	for _, alg := range Algorithms {
		b.Run(alg, func(b *testing.B) {
			s, err := New(Options{Issuer: "http://as", Clients: map[string]string{"a": "b"}, Alg: alg})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Mint("a", resource, DefaultScopes)
			}
		})
	}
}
