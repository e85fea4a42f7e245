package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestClientAssertions: a client authenticates with a JWT signed by its
// registered key (each kind of key), and every hostile assertion is
// refused with 401 invalid_client: alg none, an algorithm other than the
// key's, another client's key, a wrong audience, an expired or long-lived
// one, a replayed jti, no jti, sub other than iss, a secret besides.
func TestClientAssertions(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, hs, clk := newServer(t, Options{ClientKeys: map[string]crypto.PublicKey{
		"ec-client": ec.Public(), "rsa-client": rs.Public(), "ed-client": ed.Public(), "other": other.Public()}})
	tok := hs.URL + "/token"
	n := 0
	claims := func(id string, change func(jwt.MapClaims)) jwt.MapClaims {
		n++
		now := clk.now()
		c := jwt.MapClaims{"iss": id, "sub": id, "aud": s.Issuer(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": fmt.Sprintf("jti-%d", n)}
		if change != nil {
			change(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		a, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	request := func(assertion string, extra ...string) reply {
		f := url.Values{"grant_type": {"client_credentials"}, "resource": {resource},
			"client_assertion_type": {AssertionType}, "client_assertion": {assertion}}
		for i := 0; i < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return post(t, tok, f)
	}

	for id, k := range map[string]struct {
		m   jwt.SigningMethod
		key any
	}{"ec-client": {jwt.SigningMethodES256, ec}, "rsa-client": {jwt.SigningMethodRS256, rs}, "ed-client": {jwt.SigningMethodEdDSA, ed}} {
		if r := request(sign(k.m, k.key, claims(id, nil))); r.status != 200 || r.body["access_token"] == nil {
			t.Errorf("%s: %d %v", id, r.status, r.body)
		}
	}
	good := sign(jwt.SigningMethodES256, ec, claims("ec-client", nil))
	if r := request(good); r.status != 200 {
		t.Fatalf("good assertion: %d %v", r.status, r.body)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims("ec-client", nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	der, _ := x509.MarshalPKIXPublicKey(ec.Public())
	for _, tc := range []struct {
		name      string
		assertion string
		extra     []string
	}{
		{"replayed jti", good, nil},
		{"alg none", none, nil},
		{"HS256 keyed with the public key", sign(jwt.SigningMethodHS256, der, claims("ec-client", nil)), nil},
		{"RSA client signing ES256", sign(jwt.SigningMethodES256, ec, claims("rsa-client", nil)), nil},
		{"another client's key", sign(jwt.SigningMethodES256, other, claims("ec-client", nil)), nil},
		{"wrong audience", sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { c["aud"] = "http://127.0.0.1:1" })), nil},
		{"no audience", sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { delete(c, "aud") })), nil},
		{"expired", sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { c["exp"] = clk.now().Add(-time.Minute).Unix() })), nil},
		{"no expiry", sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { delete(c, "exp") })), nil},
		{"expires in an hour", sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { c["exp"] = clk.now().Add(time.Hour).Unix() })), nil},
		{"no jti", sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { delete(c, "jti") })), nil},
		{"sub other than iss", sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { c["sub"] = "other" })), nil},
		{"unknown client", sign(jwt.SigningMethodES256, ec, claims("nobody", nil)), nil},
		{"client_id other than iss", sign(jwt.SigningMethodES256, ec, claims("ec-client", nil)), []string{"client_id", "other"}},
		{"wrong assertion type", sign(jwt.SigningMethodES256, ec, claims("ec-client", nil)), []string{"client_assertion_type", "urn:x"}},
		{"not a JWT", "abc", nil},
	} {
		if r := request(tc.assertion, tc.extra...); r.status != 401 || r.body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", tc.name, r.status, r.body)
		}
	}
	if r := request(sign(jwt.SigningMethodES256, ec, claims("ec-client", nil)), "client_secret", "x"); r.status != 400 {
		t.Errorf("assertion and secret: %d %v, want 400", r.status, r.body)
	}
	token := sign(jwt.SigningMethodES256, ec, claims("ec-client", func(c jwt.MapClaims) { c["aud"] = s.Issuer() + "/token" }))
	if r := request(token); r.status != 200 {
		t.Errorf("token endpoint as audience: %d %v", r.status, r.body)
	}
}
