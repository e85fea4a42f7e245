package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/internal/dpop"

	"github.com/golang-jwt/jwt/v5"
)

const dpopURL = "http://127.0.0.1:8080/mcp"

// dpopReq is a Request for the verifier: method, URL and headers.
type dpopReq struct {
	method, url string
	h           http.Header
}

func (r dpopReq) Method() string            { return r.method }
func (r dpopReq) URL() string               { return r.url }
func (r dpopReq) Header(n string) string    { return r.h.Get(n) }
func (r dpopReq) HeaderCount(n string) int  { return len(r.h.Values(n)) }
func (r dpopReq) TLS() *tls.ConnectionState { return nil }

// dpopKey is a client's proof key.
type dpopKey struct {
	alg  string
	priv crypto.Signer
	jwk  map[string]any
	jkt  string
}

func newDPoPKey(t testing.TB, alg string) *dpopKey {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	k := &dpopKey{alg: alg}
	switch alg {
	case "ES256":
		p, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		b, _ := p.PublicKey.Bytes()
		k.priv, k.jwk = p, map[string]any{"kty": "EC", "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
	case "EdDSA":
		pub, p, _ := ed25519.GenerateKey(rand.Reader)
		k.priv, k.jwk = p, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc(pub)}
	case "RS256":
		p, _ := rsa.GenerateKey(rand.Reader, 2048)
		k.priv, k.jwk = p, map[string]any{"kty": "RSA", "n": enc(p.N.Bytes()), "e": enc(big.NewInt(int64(p.E)).Bytes())}
	}
	var err error
	if k.jkt, err = dpop.JWKThumbprint(k.priv.Public()); err != nil {
		t.Fatal(err)
	}
	return k
}

// proof signs a DPoP proof; edit changes its claims and header first.
func (k *dpopKey) proof(t testing.TB, method, url, token string, edit func(c jwt.MapClaims, h map[string]any)) string {
	t.Helper()
	c := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": url, "iat": time.Now().Unix(), "ath": tokenHash(token)}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), c)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = k.jwk
	if edit != nil {
		edit(c, tok.Header)
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var dpopSecret = []byte("dpop-test-secret-0123456789abcdef")

// accessToken is an HS256 access token for dpopURL, bound to jkt ("" for
// a bearer token).
func accessToken(t testing.TB, jkt string) string {
	t.Helper()
	c := jwt.MapClaims{"iss": "https://as.example", "aud": dpopURL, "sub": "u", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	if jkt != "" {
		c["cnf"] = map[string]any{"jkt": jkt}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString(dpopSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newDPoPVerifier(t testing.TB, mode string) *DPoPVerifier {
	t.Helper()
	jv, err := NewJWT(context.Background(), JWTConfig{Issuer: "https://as.example", Audience: dpopURL, HMACSecret: dpopSecret, Algorithms: []string{"HS256"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewDPoP(jv, DPoPConfig{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func dpopRequest(scheme, token string, proofs ...string) dpopReq {
	h := http.Header{}
	h.Set("Authorization", scheme+" "+token)
	for _, p := range proofs {
		h.Add("DPoP", p)
	}
	return dpopReq{method: "POST", url: dpopURL, h: h}
}

func TestDPoPAccepts(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		k := newDPoPKey(t, alg)
		v := newDPoPVerifier(t, DPoPRequired)
		tok := accessToken(t, k.jkt)
		info, err := v.Verify(context.Background(), tok, dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL+"?x=1", tok, nil)))
		if err != nil || info.JKT != k.jkt {
			t.Errorf("%s: %v (jkt %q)", alg, err, info)
		}
	}
	// Allowed mode takes an unbound bearer token.
	v := newDPoPVerifier(t, DPoPAllowed)
	tok := accessToken(t, "")
	if _, err := v.Verify(context.Background(), tok, dpopRequest("Bearer", tok)); err != nil {
		t.Errorf("allowed mode, bearer token: %v", err)
	}
}

// TestDPoPRefuses is RFC 9449's list of what a resource must refuse: each
// case is refused, with the kind of error it names.
func TestDPoPRefuses(t *testing.T) {
	k, other := newDPoPKey(t, "ES256"), newDPoPKey(t, "ES256")
	tok := accessToken(t, k.jkt)
	hs := func(c jwt.MapClaims) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("k"))
		return s
	}
	replayed := k.proof(t, "POST", dpopURL, tok, nil)
	cases := []struct {
		name string
		req  dpopReq
		mode string
		want error
	}{
		{"no proof", dpopRequest("DPoP", tok), "", ErrInvalidProof},
		{"two proofs", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, nil), k.proof(t, "POST", dpopURL, tok, nil)), "", ErrInvalidProof},
		{"replayed", dpopRequest("DPoP", tok, replayed), "", ErrInvalidProof},
		{"other method", dpopRequest("DPoP", tok, k.proof(t, "GET", dpopURL, tok, nil)), "", ErrInvalidProof},
		{"other URL", dpopRequest("DPoP", tok, k.proof(t, "POST", "http://127.0.0.1:8080/other", tok, nil)), "", ErrInvalidProof},
		{"other host", dpopRequest("DPoP", tok, k.proof(t, "POST", "http://evil.example/mcp", tok, nil)), "", ErrInvalidProof},
		{"stale iat", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(c jwt.MapClaims, _ map[string]any) { c["iat"] = time.Now().Add(-5 * time.Minute).Unix() })), "", ErrInvalidProof},
		{"future iat", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(c jwt.MapClaims, _ map[string]any) { c["iat"] = time.Now().Add(5 * time.Minute).Unix() })), "", ErrInvalidProof},
		{"no iat", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(c jwt.MapClaims, _ map[string]any) { delete(c, "iat") })), "", ErrInvalidProof},
		{"no jti", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(c jwt.MapClaims, _ map[string]any) { delete(c, "jti") })), "", ErrInvalidProof},
		{"another key than cnf.jkt", dpopRequest("DPoP", tok, other.proof(t, "POST", dpopURL, tok, nil)), "", ErrInvalidProof},
		{"no ath", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(c jwt.MapClaims, _ map[string]any) { delete(c, "ath") })), "", ErrInvalidProof},
		{"wrong ath", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(c jwt.MapClaims, _ map[string]any) { c["ath"] = tokenHash("other") })), "", ErrInvalidProof},
		{"typ not dpop+jwt", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(_ jwt.MapClaims, h map[string]any) { h["typ"] = "JWT" })), "", ErrInvalidProof},
		{"private key in jwk", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(_ jwt.MapClaims, h map[string]any) {
			d := map[string]any{}
			for n, x := range k.jwk {
				d[n] = x
			}
			d["d"] = base64.RawURLEncoding.EncodeToString(k.priv.(*ecdsa.PrivateKey).D.Bytes())
			h["jwk"] = d
		})), "", ErrInvalidProof},
		{"no jwk", dpopRequest("DPoP", tok, k.proof(t, "POST", dpopURL, tok, func(_ jwt.MapClaims, h map[string]any) { delete(h, "jwk") })), "", ErrInvalidProof},
		{"HS256 proof", dpopRequest("DPoP", tok, hs(jwt.MapClaims{"jti": "x", "htm": "POST", "htu": dpopURL, "iat": time.Now().Unix(), "ath": tokenHash(tok)})), "", ErrInvalidProof},
		{"alg none", dpopRequest("DPoP", tok, "eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ."+base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"y","htm":"POST","htu":"`+dpopURL+`"}`))+"."), "", ErrInvalidProof},
		{"bound token as bearer (allowed mode)", dpopRequest("Bearer", tok), DPoPAllowed, ErrInvalidToken},
		{"bearer token under required mode", dpopRequest("Bearer", accessToken(t, "")), "", ErrInvalidToken},
		{"unbound token under the DPoP scheme", func() dpopReq {
			b := accessToken(t, "")
			return dpopRequest("DPoP", b, k.proof(t, "POST", dpopURL, b, nil))
		}(), "", ErrInvalidToken},
		{"a proof with a bearer token", dpopRequest("Bearer", accessToken(t, ""), k.proof(t, "POST", dpopURL, tok, nil)), DPoPAllowed, ErrMalformed},
	}
	v := newDPoPVerifier(t, DPoPRequired)
	if _, err := v.Verify(context.Background(), tok, dpopRequest("DPoP", tok, replayed)); err != nil {
		t.Fatalf("the proof to replay was refused the first time: %v", err)
	}
	for _, tc := range cases {
		vv := v
		if tc.mode != "" {
			vv = newDPoPVerifier(t, tc.mode)
		}
		tokIn := strings.TrimPrefix(strings.TrimPrefix(tc.req.h.Get("Authorization"), "DPoP "), "Bearer ")
		_, err := vv.Verify(context.Background(), tokIn, tc.req)
		t.Logf("%s: %v", tc.name, err)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestJWKThumbprint: RFC 7638 §3.1's example key and thumbprint.
func TestJWKThumbprint(t *testing.T) {
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	_, jkt, err := publicJWK(map[string]any{"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"})
	if err != nil || jkt != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint %q, %v", jkt, err)
	}
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		k := newDPoPKey(t, alg)
		if _, jkt, err := publicJWK(k.jwk); err != nil || jkt != k.jkt {
			t.Errorf("%s: the JWK's thumbprint %q (%v) is not the key's %q", alg, jkt, err, k.jkt)
		}
	}
}

// TestDPoPMiddleware: the middleware's challenge names DPoP, the proof
// error and the algorithms; a bearer token passes in allowed mode.
func TestDPoPMiddleware(t *testing.T) {
	k := newDPoPKey(t, "EdDSA")
	v := newDPoPVerifier(t, DPoPAllowed)
	h := Middleware(v, Options{Scheme: "DPoP", BearerToo: true, Algs: v.Algs()})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(scheme, tok, proof string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/mcp", nil)
		req.Header.Set("Authorization", scheme+" "+tok)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	tok := accessToken(t, k.jkt)
	// The test server's URL is not dpopURL: the audience check refuses
	// the token after the proof passes, so sign for the server's URL and
	// check the proof's refusal and the bearer path.
	bad := k.proof(t, "GET", srv.URL+"/mcp", tok, nil)
	resp := do("DPoP", tok, bad)
	if www := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || !strings.HasPrefix(www, "DPoP ") || !strings.Contains(www, `error="invalid_dpop_proof"`) || !strings.Contains(www, `algs="ES256 ES384 EdDSA RS256 PS256"`) {
		t.Errorf("bad proof: %d %q", resp.StatusCode, www)
	}
	if resp := do("Bearer", tok, ""); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bound token as bearer: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func BenchmarkDPoPVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			k := newDPoPKey(b, alg)
			v := newDPoPVerifier(b, DPoPRequired)
			tok := accessToken(b, k.jkt)
			proofs := make([]string, 1000)
			for i := range proofs {
				proofs[i] = k.proof(b, "POST", dpopURL, tok, nil)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%len(proofs) == 0 && i > 0 {
					v.seen = replayCache{max: v.cfg.Replay, at: map[string]time.Time{}} // reuse the proofs
				}
				if _, err := v.Verify(context.Background(), tok, dpopRequest("DPoP", tok, proofs[i%len(proofs)])); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzDPoPProof: any DPoP header, with a bound token, is refused or
// accepted without a panic, and one accepted is signed by the key the
// token is bound to.
func FuzzDPoPProof(f *testing.F) {
	k := newDPoPKey(f, "ES256")
	tok := accessToken(f, k.jkt)
	f.Add(k.proof(f, "POST", dpopURL, tok, nil))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	v := newDPoPVerifier(f, DPoPRequired)
	f.Fuzz(func(t *testing.T, proof string) {
		info, err := v.Verify(context.Background(), tok, dpopRequest("DPoP", tok, proof))
		if err == nil && info.JKT != k.jkt {
			t.Fatalf("accepted a proof for key %q, the token is bound to %q", info.JKT, k.jkt)
		}
	})
}

// TestDPoPNonce: with server nonces, a proof without one, or with one the
// server never gave, is refused with use_dpop_nonce and the nonce to use;
// with it, accepted; the nonce before the current one is still taken, the
// one before that no longer; the middleware hands the nonce over in
// DPoP-Nonce.
func TestDPoPNonce(t *testing.T) {
	k := newDPoPKey(t, "ES256")
	tok := accessToken(t, k.jkt)
	jv, err := NewJWT(context.Background(), JWTConfig{Issuer: "https://as.example", Audience: dpopURL, HMACSecret: dpopSecret, Algorithms: []string{"HS256"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v, err := NewDPoP(jv, DPoPConfig{Nonce: time.Minute, Window: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	call := func(nonce string) error {
		p := k.proof(t, "POST", dpopURL, tok, func(c jwt.MapClaims, _ map[string]any) {
			if nonce != "" {
				c["nonce"] = nonce
			}
		})
		_, err := v.Verify(context.Background(), tok, dpopRequest("DPoP", tok, p))
		return err
	}
	given := func(err error) string {
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrUseNonce) || e.Nonce == "" {
			t.Fatalf("%v: want use_dpop_nonce with a nonce", err)
		}
		return e.Nonce
	}
	first := given(call(""))
	if err := call(first); err != nil {
		t.Fatalf("with the nonce given: %v", err)
	}
	if n := given(call("made-up")); n != first {
		t.Errorf("a made-up nonce got nonce %q, want the current %q", n, first)
	}
	now = now.Add(61 * time.Second)
	if err := call(first); err != nil {
		t.Errorf("the nonce before the current one: %v", err)
	}
	second := given(call(""))
	if second == first {
		t.Fatal("the nonce did not change")
	}
	now = now.Add(61 * time.Second)
	if n := given(call(first)); n == first || n == second {
		t.Errorf("a nonce two periods old was taken, or no new one made: %q", n)
	}
	// The middleware's answer.
	srv := httptest.NewServer(Middleware(v, Options{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/mcp", nil)
	req.Header.Set("Authorization", "DPoP "+tok)
	req.Header.Set("DPoP", k.proof(t, "POST", srv.URL+"/mcp", tok, nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if www := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || !strings.Contains(www, `error="use_dpop_nonce"`) || resp.Header.Get("DPoP-Nonce") == "" {
		t.Errorf("middleware: %d %q, DPoP-Nonce %q", resp.StatusCode, www, resp.Header.Get("DPoP-Nonce"))
	}
}
