package jwtkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// TestRoundTrip: each kind of key reads back from its PEM with the method
// its kind pins; a weak or foreign key is refused.
func TestRoundTrip(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for want, key := range map[string]crypto.Signer{"ES256": ec, "RS256": rs, "EdDSA": ed} {
		priv, err := PrivatePEM(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, m, err := Private(priv); err != nil || m.Alg() != want {
			t.Errorf("%s private: %v %v", want, m, err)
		}
		pub, _ := PublicPEM(key.Public())
		if _, m, err := Public(pub); err != nil || m.Alg() != want {
			t.Errorf("%s public: %v %v", want, m, err)
		}
	}
	sec1, _ := x509.MarshalECPrivateKey(ec)
	if _, m, err := Private(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})); err != nil || m.Alg() != "ES256" {
		t.Errorf("SEC 1: %v %v", m, err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, key := range map[string]crypto.Signer{"P-384": p384, "RSA 1024": weak} {
		b, _ := PrivatePEM(key)
		if _, _, err := Private(b); err == nil {
			t.Errorf("%s taken", name)
		}
	}
	if _, _, err := Private([]byte("not pem")); err == nil {
		t.Error("garbage taken")
	}
}
