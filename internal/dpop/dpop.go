// Package dpop is the client's side of DPoP (RFC 9449): a key pair and the
// proofs it signs, one per request.
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key is a client's proof key.
type Key struct {
	alg    string
	method jwt.SigningMethod
	priv   crypto.Signer
	jwk    map[string]string
	jkt    string
}

// NewKey makes a key for alg: ES256 or EdDSA.
func NewKey(alg string) (*Key, error) {
	k := &Key{alg: alg, method: jwt.GetSigningMethod(alg)}
	var err error
	switch alg {
	case "ES256":
		k.priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k.priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("DPoP key algorithm %q: want ES256 or EdDSA", alg)
	}
	if err != nil {
		return nil, err
	}
	if k.jwk, err = JWK(k.priv.Public()); err != nil {
		return nil, err
	}
	k.jkt = Thumbprint(k.jwk)
	return k, nil
}

// JWK is the public JWK of pub (EC P-256 or P-384, Ed25519, RSA): its
// required members (RFC 7638 §3.2), which are what a proof's header
// carries and what its thumbprint hashes.
func JWK(pub crypto.PublicKey) (map[string]string, error) {
	enc := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			return nil, err
		}
		size := (len(b) - 1) / 2
		return map[string]string{"kty": "EC", "crv": k.Curve.Params().Name, "x": enc(b[1 : 1+size]), "y": enc(b[1+size:])}, nil
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": enc(k)}, nil
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "e": enc(big.NewInt(int64(k.E)).Bytes()), "n": enc(k.N.Bytes())}, nil
	}
	return nil, fmt.Errorf("no JWK for a %T", pub)
}

// Thumbprint is the RFC 7638 thumbprint of a JWK's required members: the
// SHA-256 of their JSON in lexicographic order without white space (as
// encoding/json writes a map), base64url. It is a bound token's cnf.jkt.
func Thumbprint(members map[string]string) string {
	b, _ := json.Marshal(members)
	h := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// JWKThumbprint is the thumbprint of a public key.
func JWKThumbprint(pub crypto.PublicKey) (string, error) {
	m, err := JWK(pub)
	if err != nil {
		return "", err
	}
	return Thumbprint(m), nil
}

// Alg is the key's algorithm.
func (k *Key) Alg() string { return k.alg }

// Thumbprint is the key's RFC 7638 thumbprint: a bound token's cnf.jkt.
func (k *Key) Thumbprint() string { return k.jkt }

// Proof signs a proof for one request: its method and URL (query and
// fragment are dropped by the server), and the access token it carries
// ("" at the token endpoint), with the server's nonce if it gave one.
func (k *Key) Proof(method, url, accessToken, nonce string) (string, error) {
	c := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": url, "iat": time.Now().Unix()}
	if accessToken != "" {
		h := sha256.Sum256([]byte(accessToken))
		c["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	t := jwt.NewWithClaims(k.method, c)
	t.Header["typ"] = "dpop+jwt"
	t.Header["jwk"] = k.jwk
	return t.SignedString(k.priv)
}
