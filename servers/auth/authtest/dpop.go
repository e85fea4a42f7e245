package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mcpbench/mcpbench/internal/dpop"
	"github.com/mcpbench/mcpbench/servers/authserver"
)

// prover signs DPoP proofs (RFC 9449) with a P-256 key, changed as a
// case needs.
type prover struct {
	key *ecdsa.PrivateKey
	jwk map[string]string
	jkt string
}

func newProver(t testing.TB) *prover {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := dpop.JWK(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &prover{key: k, jwk: jwk, jkt: dpop.Thumbprint(jwk)}
}

// proof is a proof for method and url carrying tok's hash, changed by
// change (claims and header) before it is signed.
func (p *prover) proof(t testing.TB, method, url, tok string, change func(c jwt.MapClaims, h map[string]any)) string {
	t.Helper()
	h := sha256.Sum256([]byte(tok))
	c := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": url, "iat": time.Now().Unix(), "ath": base64.RawURLEncoding.EncodeToString(h[:])}
	j := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	j.Header["typ"] = "dpop+jwt"
	j.Header["jwk"] = p.jwk
	if change != nil {
		change(c, j.Header)
	}
	s, err := j.SignedString(p.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// boundToken mints a good token bound to jkt (cnf.jkt).
func (e *Env) boundToken(t testing.TB, jkt string) string {
	t.Helper()
	tok, _, err := e.Server.MintBound(ClientID, e.Resource, authserver.DefaultScopes, jkt)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func dpopAuth(tok string) []string { return []string{"DPoP " + tok} }

// DPoPCases are the DPoP-bound calls (POST to url, the resource) a server
// that requires DPoP must refuse, and the good one it must take first.
// They run in order: "replayed proof" sends the good call's proof again.
func (e *Env) DPoPCases(t testing.TB, url string) []Case {
	t.Helper()
	k, other := newProver(t), newProver(t)
	tok := e.boundToken(t, k.jkt)
	good := k.proof(t, "POST", url, tok, nil)
	proof := func(change func(jwt.MapClaims, map[string]any)) []string {
		return []string{k.proof(t, "POST", url, tok, change)}
	}
	bad := func(name string, authz, proofs []string, code string) Case {
		return Case{Request{Name: name, Authorization: authz, DPoP: proofs}, 401, code}
	}
	const proofErr, tokenErr = "invalid_dpop_proof", "invalid_token"
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"jti": "x", "htm": "POST", "htu": url, "iat": time.Now().Unix()}).SignedString([]byte("key"))
	none := "eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"y","htm":"POST","htu":"`+url+`"}`)) + "."
	bearerTok := e.Token(t)
	return []Case{
		{Request{Name: "DPoP: a good bound token and proof", Authorization: dpopAuth(tok), DPoP: []string{good}}, 200, ""},
		bad("DPoP: replayed proof", dpopAuth(tok), []string{good}, proofErr),
		bad("DPoP: no proof", dpopAuth(tok), nil, proofErr),
		bad("DPoP: two proofs", dpopAuth(tok), append(proof(nil), proof(nil)...), proofErr),
		bad("DPoP: proof for another method", dpopAuth(tok), []string{k.proof(t, "GET", url, tok, nil)}, proofErr),
		bad("DPoP: proof for another URL", dpopAuth(tok), []string{k.proof(t, "POST", strings.TrimSuffix(url, "/")+"/other", tok, nil)}, proofErr),
		bad("DPoP: stale iat", dpopAuth(tok), proof(func(c jwt.MapClaims, _ map[string]any) { c["iat"] = time.Now().Add(-5 * time.Minute).Unix() }), proofErr),
		bad("DPoP: future iat", dpopAuth(tok), proof(func(c jwt.MapClaims, _ map[string]any) { c["iat"] = time.Now().Add(5 * time.Minute).Unix() }), proofErr),
		bad("DPoP: proof by another key than cnf.jkt", dpopAuth(tok), []string{other.proof(t, "POST", url, tok, nil)}, proofErr),
		bad("DPoP: no ath", dpopAuth(tok), proof(func(c jwt.MapClaims, _ map[string]any) { delete(c, "ath") }), proofErr),
		bad("DPoP: wrong ath", dpopAuth(tok), proof(func(c jwt.MapClaims, _ map[string]any) { c["ath"] = "AAAA" }), proofErr),
		bad("DPoP: alg none proof", dpopAuth(tok), []string{none}, proofErr),
		bad("DPoP: HS256 proof", dpopAuth(tok), []string{hs}, proofErr),
		bad("DPoP: private key in jwk", dpopAuth(tok), proof(func(_ jwt.MapClaims, h map[string]any) {
			d := map[string]string{"d": base64.RawURLEncoding.EncodeToString(k.key.D.FillBytes(make([]byte, 32)))}
			for n, x := range k.jwk {
				d[n] = x
			}
			h["jwk"] = d
		}), proofErr),
		// A server that requires DPoP takes no Bearer scheme: a malformed request.
		{Request{Name: "DPoP: bound token as a bearer token", Authorization: bearer(tok), DPoP: proof(nil)}, 400, "invalid_request"},
		bad("DPoP: bearer token under the DPoP scheme", dpopAuth(bearerTok), []string{k.proof(t, "POST", url, bearerTok, nil)}, tokenErr),
	}
}

// RunDPoP sends a server that requires DPoP-bound tokens the cases of
// DPoPCases, and fails t for every answer but the one each must get: a
// DPoP challenge (RFC 9449 §7.1) with its proof algorithms and error
// code, pointing at metadataURL when that is given. url is the resource
// the requests go to.
func RunDPoP(t *testing.T, e *Env, metadataURL, url string, do func(Request) Answer) {
	t.Helper()
	runCases(t, e.DPoPCases(t, url), "DPoP", metadataURL, nil, do)
}
