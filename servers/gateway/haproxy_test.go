package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mcpbench/mcpbench/internal/golden"
	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/auth/authtest"
)

// hapNeed skips a test that runs haproxy when it is not installed.
func hapNeed(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed: make tools-haproxy")
	}
	return bin
}

// hapUpstream stands in for the REST upstream: POST /tools/echo answers
// 200 with JSON, and it remembers the headers and the connections it saw.
// Its answers carry a hop-by-hop header named in Connection, which the
// gateway must drop.
type hapUpstream struct {
	mu    sync.Mutex
	last  http.Header
	conns map[string]bool
	calls int
}

func hapStartUpstream(t *testing.T) (*hapUpstream, string) {
	t.Helper()
	up := &hapUpstream{conns: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/tools/echo" {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		up.mu.Lock()
		up.last = r.Header.Clone()
		up.conns[r.RemoteAddr] = true
		up.calls++
		up.mu.Unlock()
		w.Header().Set("Connection", "X-Secret-Hop")
		w.Header().Set("X-Secret-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=60")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"result":"ok"}`))
	})}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return up, "http://" + ln.Addr().String()
}

func (u *hapUpstream) seen() (http.Header, int, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last, len(u.conns), u.calls
}

// hapFreeAddr is a loopback address free a moment ago.
func hapFreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// hapStart runs a gateway for the test; Listen and Dir are filled in when
// empty.
func hapStart(t *testing.T, c HAProxyConfig) *HAProxy {
	t.Helper()
	hapNeed(t)
	if c.Listen == "" {
		c.Listen = hapFreeAddr(t)
	}
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	h, err := StartHAProxy(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// hapReply is one answer, read whole.
type hapReply struct {
	status int
	header http.Header
	body   string
}

// hapPost sends POST path with the headers given (name, value pairs; a
// name may repeat) over client's keep-alive connections.
func hapPost(t *testing.T, client *http.Client, url string, headers ...string) hapReply {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(`{"message":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return hapReply{resp.StatusCode, resp.Header, string(b)}
}

func hapClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func hapPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// hapKeys are test keys, made once: RSA generation is slow.
var hapKeys = sync.OnceValues(func() (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return r, e
})

func TestHAProxyConfigGolden(t *testing.T) {
	rsaKey, ecKey := hapKeys()
	for _, tc := range []struct {
		name string
		c    HAProxyConfig
	}{
		{"none", HAProxyConfig{Auth: "none"}},
		{"apikey", HAProxyConfig{Auth: "apikey", APIKeys: []string{"k1", "k2"}}},
		{"jwt_rs256", HAProxyConfig{Auth: "jwt", Alg: "RS256", PublicKeyPEM: hapPEM(t, &rsaKey.PublicKey),
			Issuer: "http://127.0.0.1:9000", Audience: "http://127.0.0.1:8080/tools", Scope: "tools:call"}},
		{"jwt_es256", HAProxyConfig{Auth: "jwt", Alg: "ES256", PublicKeyPEM: hapPEM(t, &ecKey.PublicKey),
			Issuer: "https://issuer.example", Audience: "urn:mcpbench:gateway", RateLimit: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.c.Listen, tc.c.Upstream, tc.c.Dir = "127.0.0.1:8080", "http://127.0.0.1:9001", dir
			cfg, err := WriteHAProxyConfig(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]string{hapCfgFile: "haproxy_" + tc.name + ".cfg"}
			if tc.c.Auth == "apikey" {
				files[hapMapFile] = "haproxy_" + tc.name + ".map"
			}
			for name, goldenFile := range files {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				got := strings.ReplaceAll(string(b), dir, "$DIR")
				golden.Check(t, filepath.Join("testdata", goldenFile), []byte(got))
			}
			if tc.c.Auth == "jwt" {
				b, err := os.ReadFile(filepath.Join(dir, hapKeyFile))
				if err != nil || !strings.HasPrefix(string(b), "-----BEGIN PUBLIC KEY-----") {
					t.Errorf("key file: %v %q", err, b)
				}
			}
			bin := hapNeed(t)
			if out, err := exec.Command(bin, "-c", "-f", cfg).CombinedOutput(); err != nil {
				t.Fatalf("haproxy -c: %v\n%s", err, out)
			}
		})
	}
}

func TestHAProxyConfigRejects(t *testing.T) {
	rsaKey, ecKey := hapKeys()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM, ecPEM := hapPEM(t, &rsaKey.PublicKey), hapPEM(t, &ecKey.PublicKey)
	jwtc := func(change func(*HAProxyConfig)) HAProxyConfig {
		c := HAProxyConfig{Auth: "jwt", Alg: "RS256", PublicKeyPEM: rsaPEM, Issuer: "http://127.0.0.1:9000",
			Audience: "http://127.0.0.1:8080/tools", Scope: "tools:call"}
		change(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		c    HAProxyConfig
		want string
	}{
		{"no listen", HAProxyConfig{Listen: "-"}, "Listen"},
		{"listen without port", HAProxyConfig{Listen: "127.0.0.1"}, "Listen"},
		{"listen port 0", HAProxyConfig{Listen: "127.0.0.1:0"}, "Listen"},
		{"listen with a comment", HAProxyConfig{Listen: "a#b:80"}, "Listen"},
		{"https upstream", HAProxyConfig{Upstream: "https://127.0.0.1:9001"}, "Upstream"},
		{"upstream with a path", HAProxyConfig{Upstream: "http://127.0.0.1:9001/tools"}, "Upstream"},
		{"upstream without port", HAProxyConfig{Upstream: "http://127.0.0.1"}, "Upstream"},
		{"no dir", HAProxyConfig{Dir: "-"}, "Dir"},
		{"dir with a space", HAProxyConfig{Dir: "/tmp/a b"}, "Dir"},
		{"negative rate", HAProxyConfig{RateLimit: -1}, "RateLimit"},
		{"unknown auth", HAProxyConfig{Auth: "basic"}, "Auth"},
		{"apikey without keys", HAProxyConfig{Auth: "apikey"}, "APIKeys"},
		{"empty key", HAProxyConfig{Auth: "apikey", APIKeys: []string{"k", ""}}, "APIKeys[1]"},
		{"HS256", jwtc(func(c *HAProxyConfig) { c.Alg = "HS256" }), "Alg"},
		{"alg none", jwtc(func(c *HAProxyConfig) { c.Alg = "none" }), "Alg"},
		{"no issuer", jwtc(func(c *HAProxyConfig) { c.Issuer = "" }), "Issuer"},
		{"no audience", jwtc(func(c *HAProxyConfig) { c.Audience = "" }), "Audience"},
		{"quote in the issuer", jwtc(func(c *HAProxyConfig) { c.Issuer = "http://x/'" }), "Issuer"},
		{"percent in the audience", jwtc(func(c *HAProxyConfig) { c.Audience = "http://x/%[src]" }), "Audience"},
		{"two scopes", jwtc(func(c *HAProxyConfig) { c.Scope = "tools:call tools:read" }), "Scope"},
		{"no key", jwtc(func(c *HAProxyConfig) { c.PublicKeyPEM = nil }), "PEM"},
		{"private key block", jwtc(func(c *HAProxyConfig) {
			c.PublicKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})
		}), "PRIVATE KEY"},
		{"EC key for RS256", jwtc(func(c *HAProxyConfig) { c.PublicKeyPEM = ecPEM }), "RS256"},
		{"RSA key for ES256", jwtc(func(c *HAProxyConfig) { c.Alg = "ES256" }), "ES256"},
		{"1024-bit RSA", jwtc(func(c *HAProxyConfig) { c.PublicKeyPEM = hapPEM(t, &small.PublicKey) }), "2048"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if c.Listen == "" {
				c.Listen = "127.0.0.1:8080"
			} else if c.Listen == "-" {
				c.Listen = ""
			}
			if c.Upstream == "" {
				c.Upstream = "http://127.0.0.1:9001"
			}
			if c.Dir == "" {
				c.Dir = t.TempDir()
			} else if c.Dir == "-" {
				c.Dir = ""
			}
			_, err := WriteHAProxyConfig(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
		})
	}
}

// TestHAProxyPlainProxy sends raw requests, so that the hop-by-hop headers
// are exactly those written, over one client connection.
func TestHAProxyPlainProxy(t *testing.T) {
	up, upURL := hapStartUpstream(t)
	h := hapStart(t, HAProxyConfig{Upstream: upURL})
	conn, err := net.Dial("tcp", h.listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	body := `{"message":"x"}`
	for i := 0; i < 3; i++ {
		fmt.Fprintf(conn, "POST /tools/echo HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
			"Authorization: Bearer secret-token\r\nX-API-Key: secret-key\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"+
			"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\nTE: trailers\r\n"+
			"Upgrade: h2c\r\nX-Forwarded-For: 203.0.113.9\r\nX-Kept: yes\r\n\r\n%s", len(body), body)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != `{"result":"ok"}` {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
		for _, name := range []string{"X-Secret-Hop", "Keep-Alive"} {
			if v := resp.Header.Get(name); v != "" {
				t.Errorf("response carries hop-by-hop %s: %q", name, v)
			}
		}
		if resp.Close {
			t.Fatalf("request %d: the gateway closed the client connection", i)
		}
	}
	got, conns, calls := up.seen()
	for _, name := range []string{"Authorization", "X-Api-Key", "X-Hop", "Keep-Alive", "Proxy-Connection",
		"Proxy-Authorization", "Te", "Upgrade"} {
		if v, ok := got[name]; ok {
			t.Errorf("upstream was sent %s: %q", name, v)
		}
	}
	if c := got.Get("Connection"); c != "" && !strings.EqualFold(c, "keep-alive") {
		t.Errorf("upstream was sent Connection: %q", c)
	}
	if got.Get("X-Kept") != "yes" {
		t.Errorf("an end-to-end header was dropped: %v", got)
	}
	if xff := got.Values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q; want the client's address only", xff)
	}
	if calls != 3 || conns != 1 {
		t.Errorf("upstream saw %d calls on %d connections; want 3 on 1 (keep-alive, http-reuse)", calls, conns)
	}
	if r := hapPost(t, hapClient(t), h.URL()+"/tools/nope"); r.status != 404 {
		t.Errorf("unknown tool through the gateway: %d", r.status)
	}
}

func TestHAProxyAPIKey(t *testing.T) {
	up, upURL := hapStartUpstream(t)
	t.Setenv("MCPBENCH_API_KEY", "s3cret-in-env") // as mcpbench run passes secrets
	h := hapStart(t, HAProxyConfig{Upstream: upURL, Auth: "apikey", APIKeys: []string{"k1", "k2"}})
	if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", h.Pid())); err != nil || bytes.Contains(env, []byte("s3cret")) {
		t.Errorf("HAProxy's environment (%v): %q", err, env)
	}
	client := hapClient(t)
	u := h.URL() + "/tools/echo"
	for _, tc := range []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"first key", []string{"X-API-Key", "k1"}, 200, ""},
		{"second key", []string{"X-API-Key", "k2"}, 200, ""},
		{"missing", nil, 401, "missing_api_key"},
		{"unknown", []string{"X-API-Key", "k3"}, 401, "invalid_api_key"},
		{"case differs", []string{"X-API-Key", "K1"}, 401, "invalid_api_key"},
		{"empty", []string{"X-API-Key", ""}, 401, "invalid_api_key"},
		{"a prefix of a key", []string{"X-API-Key", "k"}, 401, "invalid_api_key"},
		{"the key's hash", []string{"X-API-Key", "e4ea9e3a1a3bbb1d8ac9ac1f3bbb0a3ee1b6b8c6f7ed1f8d1d5e2b8c4a3b6a1f"}, 401, "invalid_api_key"},
		{"two headers", []string{"X-API-Key", "k1", "X-API-Key", "k1"}, 401, "invalid_api_key"},
		{"as a bearer token", []string{"Authorization", "Bearer k1"}, 401, "missing_api_key"},
		{"still serving", []string{"X-API-Key", "k1"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hapPost(t, client, u, tc.headers...)
			if r.status != tc.status || (tc.code != "" && !strings.Contains(r.body, `"error":"`+tc.code+`"`)) {
				t.Fatalf("%d %s; want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if r.status == 200 {
				if got, _, _ := up.seen(); got.Get("X-API-Key") != "" {
					t.Error("the API key was forwarded")
				}
			}
		})
	}
}

// hapCannot are the authtest cases HAProxy 2.6 cannot meet, and why.
var hapCannot = map[string]string{
	// jwt_verify checks the signature with the one PEM key in the
	// configuration and never reads kid; HAProxy has no key set to look a
	// kid up in (it cannot fetch a JWKS). A token the issuer signed with
	// that key but without kid is authentic, and HAProxy accepts it.
	"no kid": "HAProxy 2.6 verifies with one configured PEM key and ignores kid: a real signature without kid is accepted",
}

// hapMustRefuse are the cases no HAProxy configuration may skip.
var hapMustRefuse = []string{"alg none", "alg none with the real kid",
	"HS256 signed with the RSA public key (PEM)", "HS256 signed with the RSA public key (DER)"}

// hapRunCases is authtest.Run with the cases HAProxy cannot meet skipped,
// and a check that those it must refuse were sent and refused.
func hapRunCases(t *testing.T, env *authtest.Env, metadataURL string, do func(authtest.Request) authtest.Answer) {
	t.Helper()
	ran := authtest.RunSkipping(t, env, metadataURL, hapCannot, do)
	if _, rsa := env.Server.PublicKey().(*rsa.PublicKey); rsa {
		for _, name := range hapMustRefuse {
			if s, ok := ran[name]; !ok || s != 401 {
				t.Errorf("case %q: status %d (ran: %v); it must be sent and refused with 401", name, s, ok)
			}
		}
	}
}

// hapJWTGateway starts an authorization server and a JWT gateway trusting
// it, on an address chosen first, as the audience needs it.
func hapJWTGateway(t *testing.T, alg string, rate int) (*authtest.Env, *HAProxy, string) {
	t.Helper()
	hapNeed(t)
	_, upURL := hapStartUpstream(t)
	addr := hapFreeAddr(t)
	resource := "http://" + addr + "/tools"
	env := authtest.New(t, authtest.Config{Resource: resource, Alg: alg})
	h := hapStart(t, HAProxyConfig{Listen: addr, Upstream: upURL, Auth: "jwt", Alg: alg,
		PublicKeyPEM: hapPEM(t, env.Server.PublicKey()), Issuer: env.Issuer, Audience: resource,
		Scope: "tools:call", RateLimit: rate})
	return env, h, resource
}

func TestHAProxyJWT(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			env, h, resource := hapJWTGateway(t, alg, 0)
			client := hapClient(t)
			hapRunCases(t, env, auth.MetadataURL(resource), func(r authtest.Request) authtest.Answer {
				u := h.URL() + "/tools/echo"
				if r.QueryToken != "" {
					u += "?access_token=" + r.QueryToken
				}
				var hdrs []string
				for _, a := range r.Authorization {
					hdrs = append(hdrs, "Authorization", a)
				}
				rep := hapPost(t, client, u, hdrs...)
				return authtest.Answer{Status: rep.status, WWWAuthenticate: rep.header.Get("WWW-Authenticate")}
			})
			// After all those refusals, over the same connections.
			if r := hapPost(t, client, h.URL()+"/tools/echo", "Authorization", "Bearer "+env.Token(t)); r.status != 200 {
				t.Errorf("a good token after the bad ones: %d %s", r.status, r.body)
			}
			resp, err := client.Get(auth.MetadataURL(resource))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"authorization_servers":["`+env.Issuer+`"]`) {
				t.Errorf("metadata: %d %s", resp.StatusCode, b)
			}
		})
	}
}

// TestHAProxyJWTClaims covers what HAProxy's claim checks do by hand:
// aud as a string or in an array, the scope as a word, exp, nbf and iat
// that are not numbers, and the credentials not forwarded.
func TestHAProxyJWTClaims(t *testing.T) {
	env, h, resource := hapJWTGateway(t, "RS256", 0)
	now := time.Now()
	client := hapClient(t)
	for _, tc := range []struct {
		name   string
		change func(jwt.MapClaims)
		header map[string]any
		status int
	}{
		{"aud a string", func(c jwt.MapClaims) { c["aud"] = resource }, nil, 200},
		{"aud second of two", func(c jwt.MapClaims) { c["aud"] = []string{"http://other/", resource} }, nil, 200},
		{"aud fourth of four", func(c jwt.MapClaims) { c["aud"] = []string{"a", "b", "c", resource} }, nil, 200},
		// Beyond the fourth element HAProxy does not look (a limit of this
		// configuration; the Go validators would accept it).
		{"aud fifth of five", func(c jwt.MapClaims) { c["aud"] = []string{"a", "b", "c", "d", resource} }, nil, 401},
		{"aud a prefix", func(c jwt.MapClaims) { c["aud"] = resource + "x" }, nil, 401},
		{"aud in an object", func(c jwt.MapClaims) { c["aud"] = map[string]string{"0": resource} }, nil, 401},
		{"scope last word", func(c jwt.MapClaims) { c["scope"] = "tools:read tools:call" }, nil, 200},
		{"scope only word", func(c jwt.MapClaims) { c["scope"] = "tools:call" }, nil, 200},
		{"scope as a prefix", func(c jwt.MapClaims) { c["scope"] = "tools:callx" }, nil, 403},
		{"scope as a suffix", func(c jwt.MapClaims) { c["scope"] = "xtools:call" }, nil, 403},
		{"scope with a regex dot", func(c jwt.MapClaims) { c["scope"] = "toolsXcall" }, nil, 403},
		{"scope missing", func(c jwt.MapClaims) { delete(c, "scope") }, nil, 403},
		{"nbf in the past", func(c jwt.MapClaims) { c["nbf"] = now.Add(-time.Minute).Unix() }, nil, 200},
		{"nbf within the skew", func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Second).Unix() }, nil, 200},
		{"nbf not a number", func(c jwt.MapClaims) { c["nbf"] = "later" }, nil, 401},
		{"iat not a number", func(c jwt.MapClaims) { c["iat"] = "now" }, nil, 401},
		{"iat negative", func(c jwt.MapClaims) { c["iat"] = -7 }, nil, 401},
		{"exp not a number", func(c jwt.MapClaims) { c["exp"] = "tomorrow" }, nil, 401},
		{"exp true", func(c jwt.MapClaims) { c["exp"] = true }, nil, 401},
		{"exp null", func(c jwt.MapClaims) { c["exp"] = nil }, nil, 401},
		{"exp in an array", func(c jwt.MapClaims) { c["exp"] = []int64{now.Add(time.Hour).Unix()} }, nil, 401},
		// A limit of HAProxy 2.6, pinned here so that a change is seen:
		// json_query(...,'int') passes a JSON string through, so an exp of
		// "1790000000" (a string) reads as a number. The Go validators
		// refuse it; only the issuer could sign such a token.
		{"exp a string of digits", func(c jwt.MapClaims) { c["exp"] = fmt.Sprint(now.Add(time.Hour).Unix()) }, nil, 200},
		{"exp within the skew", func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }, nil, 200},
		{"sub empty", func(c jwt.MapClaims) { c["sub"] = "" }, nil, 401},
		{"typ application/at+jwt", func(jwt.MapClaims) {}, map[string]any{"typ": "application/at+JWT"}, 200},
		{"no typ", func(jwt.MapClaims) {}, map[string]any{"typ": nil}, 401},
		// Signed RS256 with the real key, but the header says rs256: the
		// signature verifies, the pinned alg check refuses it.
		{"alg rs256 in the header", func(jwt.MapClaims) {}, map[string]any{"alg": "rs256"}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := jwt.MapClaims{"iss": env.Issuer, "sub": authtest.ClientID, "aud": []string{resource},
				"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "scope": "tools:read tools:call"}
			tc.change(c)
			tok, err := env.Server.Sign(c, tc.header)
			if err != nil {
				t.Fatal(err)
			}
			r := hapPost(t, client, h.URL()+"/tools/echo", "Authorization", "Bearer "+tok)
			if r.status != tc.status {
				t.Fatalf("%d %s (WWW-Authenticate %q); want %d", r.status, r.body, r.header.Get("WWW-Authenticate"), tc.status)
			}
		})
	}
	// HAProxy's own confusion: for an HMAC algorithm jwt_verify takes its
	// second argument as the secret itself, so with the algorithm taken
	// from the token, an HS256 token keyed with the key file's path (it is
	// in the configuration) would verify.
	t.Run("HS256 keyed with the key file's path", func(t *testing.T) {
		c := jwt.MapClaims{"iss": env.Issuer, "sub": authtest.ClientID, "aud": []string{resource},
			"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "scope": "tools:read tools:call"}
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		tk.Header["typ"] = "at+jwt"
		tk.Header["kid"] = env.Server.KeyID()
		tok, err := tk.SignedString([]byte(filepath.Join(h.dir, hapKeyFile)))
		if err != nil {
			t.Fatal(err)
		}
		if r := hapPost(t, client, h.URL()+"/tools/echo", "Authorization", "Bearer "+tok); r.status != 401 {
			t.Fatalf("%d %s; want 401", r.status, r.body)
		}
	})
}

func TestHAProxyRateLimit(t *testing.T) {
	_, upURL := hapStartUpstream(t)
	// trips sends calls until the first 429, which must come after the
	// first two and carry Retry-After: 1.
	trips := func(t *testing.T, send func() hapReply) {
		t.Helper()
		for i := 0; i < 8; i++ {
			r := send()
			if i < 2 {
				if r.status != 200 {
					t.Fatalf("call %d under the limit: %d %s", i, r.status, r.body)
				}
				continue
			}
			if r.status == 429 {
				if r.header.Get("Retry-After") != "1" || !strings.Contains(r.body, "rate_limited") {
					t.Errorf("429 with Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
				}
				return
			}
		}
		t.Fatal("a limit of 2/s never tripped in 8 quick calls")
	}
	t.Run("apikey per key", func(t *testing.T) {
		h := hapStart(t, HAProxyConfig{Upstream: upURL, Auth: "apikey", APIKeys: []string{"a", "b"}, RateLimit: 2})
		client := hapClient(t)
		trips(t, func() hapReply { return hapPost(t, client, h.URL()+"/tools/echo", "X-API-Key", "a") })
		if r := hapPost(t, client, h.URL()+"/tools/echo", "X-API-Key", "b"); r.status != 200 {
			t.Errorf("another key was limited too: %d", r.status)
		}
	})
	t.Run("none per address", func(t *testing.T) {
		h := hapStart(t, HAProxyConfig{Upstream: upURL, RateLimit: 2})
		client := hapClient(t)
		trips(t, func() hapReply { return hapPost(t, client, h.URL()+"/tools/echo") })
	})
	t.Run("jwt per subject", func(t *testing.T) {
		env, h, resource := hapJWTGateway(t, "RS256", 2)
		client := hapClient(t)
		trips(t, func() hapReply {
			return hapPost(t, client, h.URL()+"/tools/echo", "Authorization", "Bearer "+env.Token(t))
		})
		other, _, err := env.Server.Mint(authtest.IntrospectorID, resource, []string{"tools:call"})
		if err != nil {
			t.Fatal(err)
		}
		if r := hapPost(t, client, h.URL()+"/tools/echo", "Authorization", "Bearer "+other); r.status != 200 {
			t.Errorf("another subject was limited too: %d", r.status)
		}
	})
	t.Run("default does not trip", func(t *testing.T) {
		h := hapStart(t, HAProxyConfig{Upstream: upURL, Auth: "apikey", APIKeys: []string{"a"}})
		client := hapClient(t)
		for i := 0; i < 300; i++ {
			if r := hapPost(t, client, h.URL()+"/tools/echo", "X-API-Key", "a"); r.status != 200 {
				t.Fatalf("the default limit tripped at call %d: %d %s", i, r.status, r.body)
			}
		}
	})
}

// hapGone reports whether no process (pid) and no process group (-pid)
// is left.
func hapGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) && errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
}

func TestHAProxyStop(t *testing.T) {
	hapNeed(t)
	_, upURL := hapStartUpstream(t)
	t.Run("Stop", func(t *testing.T) {
		h, err := StartHAProxy(context.Background(), HAProxyConfig{Listen: hapFreeAddr(t), Upstream: upURL, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		pid := h.Pid()
		if hapGone(pid) {
			t.Fatal("no process after start")
		}
		if r := hapPost(t, hapClient(t), h.URL()+"/tools/echo"); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}
		if !hapGone(pid) {
			t.Errorf("process %d or its group is still there after Stop", pid)
		}
		if err := h.Stop(); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		if c, err := net.Dial("tcp", h.listen); err == nil {
			c.Close()
			t.Error("still accepting connections after Stop")
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		h, err := StartHAProxy(ctx, HAProxyConfig{Listen: hapFreeAddr(t), Upstream: upURL, Dir: t.TempDir()})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		cancel()
		<-h.proc.Done()
		if !hapGone(h.Pid()) {
			t.Errorf("process %d left after its context ended", h.Pid())
		}
		if err := h.Stop(); err != nil {
			t.Errorf("Stop after the context: %v", err)
		}
	})
	t.Run("killed", func(t *testing.T) {
		h, err := StartHAProxy(context.Background(), HAProxyConfig{Listen: hapFreeAddr(t), Upstream: upURL, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		syscall.Kill(h.Pid(), syscall.SIGKILL)
		<-h.proc.Done()
		if err := h.Stop(); err == nil || !strings.Contains(err.Error(), "exited before Stop") {
			t.Errorf("Stop after haproxy died: %v", err)
		}
	})
	t.Run("port taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, err = StartHAProxy(context.Background(), HAProxyConfig{Listen: ln.Addr().String(), Upstream: upURL, Dir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "cannot listen") {
			t.Errorf("error %v; want one saying the port is taken", err)
		}
	})
}

// TestHAProxyDiesWithParent runs itself as a helper process that starts
// haproxy, kills the helper with SIGKILL, and expects haproxy gone too.
func TestHAProxyDiesWithParent(t *testing.T) {
	hapNeed(t)
	if listen := os.Getenv("HAP_HELPER_LISTEN"); listen != "" {
		h, err := StartHAProxy(context.Background(), HAProxyConfig{Listen: listen,
			Upstream: os.Getenv("HAP_HELPER_UPSTREAM"), Dir: os.Getenv("HAP_HELPER_DIR")})
		if err != nil {
			fmt.Println("error", err)
			return
		}
		fmt.Println("pid", h.Pid())
		time.Sleep(time.Minute) // until the parent kills this process
		return
	}
	_, upURL := hapStartUpstream(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHAProxyDiesWithParent$")
	cmd.Env = append(os.Environ(), "HAP_HELPER_LISTEN="+hapFreeAddr(t), "HAP_HELPER_UPSTREAM="+upURL, "HAP_HELPER_DIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, serr := fmt.Sscanf(line, "pid %d", &pid); err != nil || serr != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q (%v)", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for !hapGone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(-pid, syscall.SIGKILL)
			t.Fatalf("haproxy %d outlived its parent", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHAProxyVersion(t *testing.T) {
	hapNeed(t)
	v, err := HAProxyVersion()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "2.") && !strings.HasPrefix(v, "3.") {
		t.Errorf("version %q", v)
	}
	t.Log("haproxy", v)
}

// BenchmarkHAProxy is one call through HAProxy per iteration, for each
// auth mode, over keep-alive connections (RS256 for jwt, one token).
func BenchmarkHAProxy(b *testing.B) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		b.Skip("haproxy is not installed: make tools-haproxy")
	}
	up := hapEcho(b)
	for _, mode := range []string{"none", "apikey", "jwt"} {
		b.Run(mode, func(b *testing.B) {
			c := HAProxyConfig{Listen: hapFreeAddr(b), Upstream: up, Auth: mode, Dir: b.TempDir()}
			var hdr, val string
			switch mode {
			case "apikey":
				c.APIKeys, hdr, val = []string{"bench-key"}, "X-API-Key", "bench-key"
			case "jwt":
				c.Audience = "http://" + c.Listen + "/tools"
				env := authtest.New(b, authtest.Config{Resource: c.Audience})
				c.Issuer, c.PublicKeyPEM, c.Scope = env.Issuer, hapPEM(b, env.Server.PublicKey()), "tools:call"
				hdr, val = "Authorization", "Bearer "+env.Token(b)
			}
			h, err := StartHAProxy(context.Background(), c)
			if err != nil {
				b.Fatal(err)
			}
			defer h.Stop()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest("POST", h.URL()+"/tools/echo", strings.NewReader(`{"message":"x"}`))
				req.Header.Set("Content-Type", "application/json")
				if hdr != "" {
					req.Header.Set(hdr, val)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// hapEcho is a bare upstream answering every POST with a small JSON
// body.
func hapEcho(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"result":"x"}`))
	})}
	go s.Serve(ln)
	b.Cleanup(func() { s.Close() })
	return "http://" + ln.Addr().String()
}
