// Package dpop is the client's side of DPoP (RFC 9449): a key pair and the
// proofs it signs, one per request.
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key is a client's proof key.
type Key struct {
	alg    string
	method jwt.SigningMethod
	priv   crypto.Signer
	jwk    map[string]any
	jkt    string
}

// NewKey makes a key for alg: ES256 or EdDSA.
func NewKey(alg string) (*Key, error) {
	enc := base64.RawURLEncoding.EncodeToString
	k := &Key{alg: alg, method: jwt.GetSigningMethod(alg)}
	switch alg {
	case "ES256":
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		b, err := p.PublicKey.Bytes()
		if err != nil {
			return nil, err
		}
		k.priv, k.jwk = p, map[string]any{"kty": "EC", "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
	case "EdDSA":
		pub, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.priv, k.jwk = p, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc(pub)}
	default:
		return nil, fmt.Errorf("DPoP key algorithm %q: want ES256 or EdDSA", alg)
	}
	// RFC 7638: the required members in lexicographic order, no spaces.
	members, _ := json.Marshal(k.jwk) // encoding/json sorts map keys
	h := sha256.Sum256(members)
	k.jkt = enc(h[:])
	return k, nil
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
